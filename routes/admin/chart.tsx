/** A small bar chart as inline SVG (no script, no image request): one bar per day. */
import type { DayCount } from "../../services/dashboard.ts";

export function BarChart(props: { title: string; data: DayCount[]; id: string }) {
  const width = 420;
  const height = 140;
  const bottom = 20;
  const max = Math.max(1, ...props.data.map((d) => d.count));
  const step = width / Math.max(1, props.data.length);
  const total = props.data.reduce((sum, d) => sum + d.count, 0);
  return (
    <figure class="chart" id={props.id}>
      <figcaption>
        {props.title} <span class="muted">({total} in all)</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={props.title}>
        {props.data.map((d, i) => {
          const h = Math.round((d.count / max) * (height - bottom - 10));
          return (
            <rect x={i * step + 1} y={height - bottom - h} width={Math.max(1, step - 2)} height={h}>
              <title>{`${d.day}: ${d.count}`}</title>
            </rect>
          );
        })}
        <text x="0" y={height - 6}>{props.data[0]?.day ?? ""}</text>
        <text x={width} y={height - 6} text-anchor="end">{props.data.at(-1)?.day ?? ""}</text>
        <text x="0" y="10">{`max ${max}`}</text>
      </svg>
    </figure>
  );
}
