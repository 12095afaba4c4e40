/** The console's whole style sheet: hand-written, served from the app (no CDN, works offline). */
export const CONSOLE_CSS = `
:root{--ink:#1d2733;--muted:#5b6773;--line:#d5dbe1;--bg:#f5f7f9;--accent:#1f6feb;--bad:#b42318;--ok:#067647}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:var(--ink);background:var(--bg)}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1.2rem;background:#14202e;color:#fff}
header a{color:#cfe1ff;text-decoration:none}header a:hover{text-decoration:underline}
header .who{margin-left:auto;display:flex;gap:.6rem;align-items:center}
nav{display:flex;gap:.9rem;flex-wrap:wrap}main{max-width:72rem;margin:1.2rem auto;padding:0 1.2rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f4;font-weight:600}
form.inline{display:inline}form.filters{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end;margin-bottom:.8rem}
label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted);gap:.15rem}
input,select,textarea{font:inherit;padding:.3rem .4rem;border:1px solid var(--line);border-radius:4px;background:#fff}
button{font:inherit;padding:.35rem .8rem;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:4px;cursor:pointer}
button.quiet{background:#fff;color:var(--accent)}button.danger{border-color:var(--bad);background:var(--bad)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.8rem}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.7rem .9rem}
.card b{display:block;font-size:1.5rem}.muted{color:var(--muted)}.ok{color:var(--ok)}.bad{color:var(--bad)}
.notice{padding:.6rem .9rem;border-radius:6px;background:#e8f1ff;border:1px solid #b6d0ff;margin-bottom:1rem}
.error{background:#fdecea;border-color:#f4b4ad}
fieldset{border:1px solid var(--line);border-radius:6px;background:#fff;margin:0 0 1rem;padding:.6rem .9rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.6rem}
.chart{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.5rem;margin:0 0 1rem}
.chart svg{width:100%;max-width:48rem;height:auto;display:block}
.chart rect{fill:var(--accent)}.chart text{font-size:9px;fill:var(--muted)}
.pager{margin:.8rem 0;display:flex;gap:1rem}.signin{max-width:22rem;margin:4rem auto}
.signin form{display:flex;flex-direction:column;gap:.7rem;background:#fff;padding:1.2rem;border:1px solid var(--line);border-radius:6px}
pre{background:#fff;border:1px solid var(--line);padding:.6rem;overflow:auto}
`;
