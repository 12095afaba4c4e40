/** A list page's table: the headers, then one row per item with the cells the page gives for it. */
import type { Child } from "hono/jsx";

/** A cell's content, or its content with a class (e.g. "bad" for a failure). */
export type Cell = Child | { value: Child; class: string };

function isMarked(cell: Cell): cell is { value: Child; class: string } {
  return typeof cell === "object" && cell !== null && "class" in cell && "value" in cell;
}

export function ListTable<T>(props: { headers: string[]; rows: T[]; cells: (row: T) => Cell[] }) {
  return (
    <table>
      <thead>
        <tr>{props.headers.map((h) => <th>{h}</th>)}</tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr>
            {props.cells(row).map((cell) =>
              isMarked(cell) ? <td class={cell.class}>{cell.value}</td> : <td>{cell}</td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A list filter that is one of a few values, or "any" (the empty value). */
export function ChoiceFilter(
  props: { label: string; name: string; choices: readonly string[]; selected?: string },
) {
  return (
    <label>
      {props.label}
      <select name={props.name}>
        <option value="">any</option>
        {props.choices.map((choice) => <option selected={choice === props.selected}>{choice}</option>)}
      </select>
    </label>
  );
}
