// Named rows with a "required" flag (method request query strings and headers), and
// content-type → choice rows (request models).
import { EditableRows, Options, setPair, type Option } from "../ui";

export type Param = { name: string; required: boolean };

export function ParamList(props: { label: string; noun: string; rows: Param[]; onChange: (rows: Param[]) => void }) {
  const set = (i: number, p: Partial<Param>) => props.onChange(props.rows.map((r, k) => (k === i ? { ...r, ...p } : r)));
  return (
    <EditableRows
      label={props.label}
      rows={props.rows}
      onChange={props.onChange}
      removeLabel={(i) => `Remove ${props.noun.toLowerCase()} ${i + 1}`}
      addLabel={`Add ${props.noun.toLowerCase()}`}
      blank={() => ({ name: "", required: false })}
      row={(r, i) => (
        <>
          <input aria-label={`${props.noun} ${i + 1} name`} placeholder="Name" value={r.name} onInput={(e) => set(i, { name: (e.currentTarget as HTMLInputElement).value })} />
          <label class="check">
            <input type="checkbox" checked={r.required} onChange={(e) => set(i, { required: (e.currentTarget as HTMLInputElement).checked })} /> Required
            <span class="sr-only"> ({props.noun.toLowerCase()} {i + 1})</span>
          </label>
        </>
      )}
    />
  );
}

/** Rows of a free key (e.g. a content type) and a value chosen from `options`. */
export function ChoiceList(props: {
  label: string;
  keyLabel: string;
  valueLabel: string;
  rows: [string, string][];
  options: Option[];
  onChange: (rows: [string, string][]) => void;
  addLabel: string;
}) {
  const set = (i: number, j: 0 | 1, v: string) => props.onChange(setPair(props.rows, i, j, v));
  return (
    <EditableRows
      label={props.label}
      rows={props.rows}
      onChange={props.onChange}
      removeLabel={(i) => `Remove ${props.keyLabel.toLowerCase()} ${i + 1}`}
      addLabel={props.addLabel}
      blank={() => ["application/json", first(props.options)] as [string, string]}
      row={(r, i) => (
        <>
          <input aria-label={`${props.keyLabel} ${i + 1}`} placeholder={props.keyLabel} value={r[0]} onInput={(e) => set(i, 0, (e.currentTarget as HTMLInputElement).value)} />
          <select aria-label={`${props.valueLabel} ${i + 1}`} value={r[1]} onChange={(e) => set(i, 1, (e.currentTarget as HTMLSelectElement).value)}>
            <Options options={props.options} />
          </select>
        </>
      )}
    />
  );
}

const first = (options: Option[]) => {
  const o = options[0];
  return o === undefined ? "" : typeof o === "string" ? o : o.value;
};
