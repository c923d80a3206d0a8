// Mapping templates per content type, with the control plane's save-time error shown next
// to the template it names and, when the message carries "line N, column M", that position
// marked: the offending line is quoted with a caret under the column, and the caret of the
// text area is put there.
import { useEffect, useRef } from "preact/hooks";
import { setPair } from "../ui";

export type TemplateRows = [string, string][];

/** Where a server message such as "...content type 'application/json': line 2, column 5: ..." points. */
export function templateErrorAt(message?: string): { contentType?: string; line: number; column: number } | undefined {
  if (!message) return undefined;
  const at = /line (\d+), column (\d+)/.exec(message);
  if (!at) return undefined;
  const ct = /content type '([^']+)'|for ([^\s:]+\/[^\s:]+):/.exec(message);
  return { contentType: ct?.[1] ?? ct?.[2], line: Number(at[1]), column: Number(at[2]) };
}

/** Offset in `text` of 1-based `line` and `column` (clamped to the text). */
const offsetOf = (text: string, line: number, column: number) => {
  const lines = text.split("\n");
  let off = 0;
  for (let k = 0; k < Math.min(line - 1, lines.length - 1); k++) off += lines[k].length + 1;
  const here = lines[Math.min(line, lines.length) - 1] ?? "";
  return off + Math.min(Math.max(column - 1, 0), here.length);
};

export function TemplateEditor(props: { label: string; rows: TemplateRows; onChange: (rows: TemplateRows) => void; error?: string; idPrefix: string }) {
  const at = templateErrorAt(props.error);
  // The row the error names: by content type, or the only one.
  const bad = at ? props.rows.findIndex(([ct]) => (at.contentType ? ct.trim() === at.contentType : true)) : -1;
  const refs = useRef<(HTMLTextAreaElement | null)[]>([]);
  useEffect(() => {
    const ta = bad >= 0 ? refs.current[bad] : null;
    if (ta && at) {
      const o = offsetOf(ta.value, at.line, at.column);
      ta.focus();
      ta.setSelectionRange(o, Math.min(o + 1, ta.value.length));
    }
  }, [props.error]);
  const set = (i: number, j: 0 | 1, v: string) => props.onChange(setPair(props.rows, i, j, v));
  return (
    <fieldset class="kv templates">
      <legend>{props.label}</legend>
      {props.rows.length === 0 && <p class="muted">None: the body passes through as configured.</p>}
      {props.rows.map(([ct, text], i) => {
        const id = `${props.idPrefix}-tpl-${i}`;
        const isBad = i === bad && at;
        const lineText = isBad ? (text.split("\n")[at.line - 1] ?? "") : "";
        return (
          <div class="template" key={i}>
            <div class="kv-row">
              <input aria-label={`Content type ${i + 1}`} placeholder="application/json" value={ct} onInput={(e) => set(i, 0, (e.currentTarget as HTMLInputElement).value)} />
              <button type="button" class="link" aria-label={`Remove template ${i + 1}`} onClick={() => props.onChange(props.rows.filter((_, k) => k !== i))}>
                Remove
              </button>
            </div>
            <label for={id}>Template for {ct.trim() || `content type ${i + 1}`}</label>
            <textarea
              id={id}
              ref={(el) => {
                refs.current[i] = el;
              }}
              class="code"
              rows={8}
              spellcheck={false}
              value={text}
              aria-invalid={isBad ? true : undefined}
              aria-describedby={isBad ? `${id}-err` : undefined}
              onInput={(e) => set(i, 1, (e.currentTarget as HTMLTextAreaElement).value)}
            />
            {isBad && (
              <div id={`${id}-err`} class="template-error" data-testid="template-error">
                <p class="error-text">
                  Line {at.line}, column {at.column}: {props.error}
                </p>
                <figure aria-label={`Line ${at.line} of the template, column ${at.column} marked`}>
                  <pre>
                    {lineText}
                    {"\n"}
                    {" ".repeat(Math.max(at.column - 1, 0))}^
                  </pre>
                </figure>
              </div>
            )}
          </div>
        );
      })}
      <button type="button" class="secondary small" onClick={() => props.onChange([...props.rows, [props.rows.length ? "" : "application/json", ""]])}>
        Add mapping template
      </button>
    </fieldset>
  );
}
