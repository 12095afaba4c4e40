/** The console's page frame: header, the links the caller may open, and the sign-out form. */
import type { Child } from "hono/jsx";
import type { Principal } from "../../services/sessions.ts";
import {
  APPOINTMENTS_READ,
  AUDIT_READ,
  DOCTORS_READ,
  INTEGRATIONLOGS_READ,
  LABRESULTS_READ,
  PAYMENTS_READ,
  ROLES_READ,
  USERS_READ,
} from "./access.ts";
import { mayOpen, type PageAccess } from "./page.ts";

const NAV: { href: string; label: string; access?: PageAccess }[] = [
  { href: "/admin/", label: "Dashboard" },
  { href: "/admin/users", label: "Users", access: USERS_READ },
  { href: "/admin/roles", label: "Roles", access: ROLES_READ },
  { href: "/admin/doctors", label: "Doctors", access: DOCTORS_READ },
  { href: "/admin/appointments", label: "Appointments", access: APPOINTMENTS_READ },
  { href: "/admin/payments", label: "Payments", access: PAYMENTS_READ },
  { href: "/admin/labresults", label: "Lab results", access: LABRESULTS_READ },
  { href: "/admin/audit", label: "Audit log", access: AUDIT_READ },
  { href: "/admin/integrationlogs", label: "Integration logs", access: INTEGRATIONLOGS_READ },
];

export interface LayoutProps {
  title: string;
  principal?: Principal;
  csrf?: string;
  notice?: string;
  error?: string;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  const { principal, csrf } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Patient Portal console</title>
        <link rel="stylesheet" href="/admin/static/console.css" />
      </head>
      <body>
        <header>
          <strong>Patient Portal</strong>
          {principal && (
            <nav>
              {NAV.filter((n) => mayOpen(principal, n.access)).map((n) => <a href={n.href}>{n.label}</a>)}
            </nav>
          )}
          {principal && csrf && (
            <div class="who">
              <span>{principal.username}</span>
              <form class="inline" method="post" action="/admin/logout">
                <CsrfField token={csrf} />
                <button class="quiet" type="submit">Sign out</button>
              </form>
            </div>
          )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.notice && <p class="notice" role="status">{props.notice}</p>}
          {props.error && <p class="notice error" role="alert">{props.error}</p>}
          {props.children}
        </main>
      </body>
    </html>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

/** A POST form to a console action, with its CSRF token. */
export function ActionForm(props: { action: string; csrf: string; children?: Child; class?: string }) {
  return (
    <form class={props.class ?? "inline"} method="post" action={props.action}>
      <CsrfField token={props.csrf} />
      {props.children}
    </form>
  );
}

/** Links to the previous and next page of a keyset list, keeping the filters. */
export function Pager(
  props: { base: string; query: Record<string, string | undefined>; next: string | null; previous: string | null },
) {
  const link = (cursor: string) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(props.query)) if (v && k !== "cursor") params.set(k, v);
    params.set("cursor", cursor);
    return `${props.base}?${params}`;
  };
  return (
    <p class="pager">
      {props.previous && <a href={link(props.previous)}>← Previous</a>}
      {props.next && <a href={link(props.next)}>Next →</a>}
    </p>
  );
}
