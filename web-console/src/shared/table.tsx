// A data table with a caption-like accessible name, column headers and a row-actions cell.
import type { ComponentChildren } from "preact";

export type Column<T> = { title: string; cell: (row: T) => ComponentChildren; hidden?: boolean };

/** A table of `rows`; `label` names it for screen readers (and for tests' getByRole). */
export function Table<T>(props: { label: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string; testId?: string }) {
  return (
    <table class="table" aria-label={props.label} data-testid={props.testId}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th key={c.title} scope="col">
              {c.hidden ? <span class="sr-only">{c.title}</span> : c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={props.rowKey(r)}>
            {props.columns.map((c) => (
              <td key={c.title} class={c.hidden ? "row-actions" : undefined}>
                {c.cell(r)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The header row of a hand-built table: one column header per title, then a visually hidden "Actions" one for the row buttons. */
export function TableHead(props: { columns: ComponentChildren[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c, i) => (
          <th key={i} scope="col">
            {c}
          </th>
        ))}
        <th scope="col">
          <span class="sr-only">Actions</span>
        </th>
      </tr>
    </thead>
  );
}

/** A row's "Edit" and "Delete" link buttons, labelled "Edit {what}" and "Delete {what}" for screen readers. */
export function EditDeleteButtons(props: { what: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <>
      <button type="button" class="link" aria-label={`Edit ${props.what}`} onClick={props.onEdit}>
        Edit
      </button>{" "}
      <button type="button" class="link" aria-label={`Delete ${props.what}`} onClick={props.onDelete}>
        Delete
      </button>
    </>
  );
}
