/**
 * Issue 9, point 24: the contract lives in the repository. The README links `docs/API.md`, every
 * relative link in the README and the contract resolves inside a clone, and the only path outside
 * it (the benchmark harness) is named as an external tool, not as a file of this repository.
 */
import { assert, assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);
const DOCS = ["README.md", "docs/API.md"];

function links(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

Deno.test("the README links the contract in the repository, and every relative link resolves in a clone", () => {
  const readme = Deno.readTextFileSync(new URL("README.md", ROOT));
  assert(links(readme).includes("docs/API.md"), "the README links docs/API.md");
  const broken: string[] = [];
  for (const doc of DOCS) {
    const base = new URL(doc, ROOT);
    for (const target of links(Deno.readTextFileSync(base))) {
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const url = new URL(target.split("#")[0], base);
      const inside = url.href.startsWith(ROOT.href);
      try {
        if (!inside) throw new Error("outside the repository");
        Deno.statSync(url);
      } catch {
        broken.push(`${doc}: ${target}`);
      }
    }
  }
  assertEquals(broken, []);
});

Deno.test("a path outside the repository is named only for the benchmark harness, as an external tool", () => {
  for (const doc of DOCS) {
    const paragraphs = Deno.readTextFileSync(new URL(doc, ROOT)).split(/\n\s*\n/);
    for (const paragraph of paragraphs.filter((p) => p.includes("../"))) {
      assert(/bench/.test(paragraph) && /external tool/.test(paragraph), `${doc}: ${paragraph.slice(0, 120)}`);
    }
  }
});
