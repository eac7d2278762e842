"""The report page's stylesheet (inline in the page, so index.html needs nothing but its PNGs)."""

CSS = """
:root { color-scheme: light; --fg: #1d2127; --muted: #5b636e; --line: #d9dde3; --band: #f5f7fa;
        --accent: #0072B2; --warn: #fff6e0; --warnline: #e6b450; }
* { box-sizing: border-box; }
body { margin: 0; background: #ffffff; color: var(--fg);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 20px 64px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); font-size: 21px; }
h3 { margin: 22px 0 4px; font-size: 17px; }
a { color: var(--accent); }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--band);
       padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
.muted { color: var(--muted); margin: 4px 0 8px; }
nav { display: flex; flex-wrap: wrap; gap: 6px 16px; padding: 10px 0; border-bottom: 1px solid var(--line); }
nav a { text-decoration: none; font-size: 14px; }
ul.headlines { padding-left: 20px; }
ul.headlines li { margin: 4px 0; }
.notes { background: var(--warn); border-left: 4px solid var(--warnline); padding: 8px 14px; margin: 12px 0; }
.notes ul { margin: 4px 0; padding-left: 20px; }
figure { margin: 12px 0 16px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0 18px; font-size: 13.5px; font-variant-numeric: tabular-nums;
        display: block; overflow-x: auto; max-width: 100%; }
caption { text-align: left; color: var(--muted); font-size: 13px; padding-bottom: 4px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap;
         vertical-align: top; }
th { white-space: normal; vertical-align: bottom; }
th.span { text-align: center; border-bottom: 2px solid #aeb6c1; background: #ffffff; }
th.span:empty { border-bottom: none; }
th:first-child, td:first-child { text-align: left; }
th { background: var(--band); font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
tr.avg td { font-weight: 600; border-top: 2px solid var(--line); }
table.kv td, table.kv th { text-align: left; }
td pre { margin: 0; text-align: left; white-space: pre-wrap; }
pre { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--band);
      padding: 10px 12px; border-radius: 4px; overflow-x: auto; white-space: pre-wrap;
      overflow-wrap: anywhere; }
section.not-run p { color: var(--muted); font-style: italic; }
"""
