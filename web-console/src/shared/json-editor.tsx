// A JSON text area that says at once when the text is not JSON (the server still has the
// last word: its validation message is shown by the form that saves).
import { useRef } from "preact/hooks";

let seq = 0;

/** The JSON syntax error of `text`, or undefined when it parses (or is empty). */
export function jsonError(text: string): string | undefined {
  if (!text.trim()) return undefined;
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** `error`: the server's message about this text, shown (and announced) under it. */
export function JsonEditor(props: { label: string; value: string; onInput: (v: string) => void; hint?: string; rows?: number; error?: string }) {
  const id = useRef(`json${++seq}`).current;
  const err = jsonError(props.value);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        class="code"
        rows={props.rows ?? 12}
        spellcheck={false}
        value={props.value}
        aria-invalid={err || props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-err ${id}-hint` : `${id}-hint`}
        onInput={(e) => props.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
      {props.error && (
        <small id={`${id}-err`} class="hint error-text" role="alert">
          {props.error}
        </small>
      )}
      <small id={`${id}-hint`} class={err ? "hint error-text" : "hint"}>
        {err ? `Not valid JSON: ${err}` : props.hint}
      </small>
    </div>
  );
}

/** Pretty-prints JSON text when it parses; otherwise answers it unchanged. */
export const pretty = (text?: string) => {
  if (!text) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};
