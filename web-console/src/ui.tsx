// Shared building blocks: data loading, toasts, dialogs, form fields, empty/loading states.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { ApiError } from "./api";

// ---- data loading -------------------------------------------------------------------

export type Async<T> = { data?: T; error?: string; loading: boolean; reload: () => void };

/** Runs `load` when `deps` change; exposes data, the API's error message and a reload. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (e) => live && setState({ error: messageOf(e), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export const messageOf = (e: unknown) =>
  e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);

// ---- toasts -------------------------------------------------------------------------

type Toast = { id: number; text: string; kind: "ok" | "error" };
let current: Toast | null = null;
const toastListeners = new Set<(t: Toast | null) => void>();
let nextId = 1;

/**
 * Shows a short message in the one toast area (in the top bar, so it never covers a form;
 * announced to screen readers). The newest message replaces the one before.
 */
export function toast(text: string, kind: "ok" | "error" = "ok") {
  const t = { id: nextId++, text, kind };
  current = t;
  toastListeners.forEach((l) => l(current));
  setTimeout(() => {
    if (current?.id !== t.id) return;
    current = null;
    toastListeners.forEach((l) => l(current));
  }, kind === "error" ? 8000 : 4000);
}

/** The toast area: `bar` inside the top bar, otherwise at the top of the page. */
export function Toasts({ bar = false }: { bar?: boolean }) {
  const [t, setT] = useState<Toast | null>(current);
  useEffect(() => {
    toastListeners.add(setT);
    return () => void toastListeners.delete(setT);
  }, []);
  return (
    <div class={bar ? "toasts in-bar" : "toasts"} role="status" aria-live="polite">
      {t && (
        <div key={t.id} class={`toast toast-${t.kind}`} data-testid="toast">
          {t.text}
        </div>
      )}
    </div>
  );
}

// ---- states -------------------------------------------------------------------------

export const Loading = ({ what = "Loading" }: { what?: string }) => (
  <p class="loading" role="status" aria-live="polite">
    <span class="spinner" aria-hidden="true" /> {what}…
  </p>
);

export const Empty = ({ title, children }: { title: string; children?: ComponentChildren }) => (
  <div class="empty">
    <p class="empty-title">{title}</p>
    {children}
  </div>
);

export const ErrorText = ({ error }: { error?: string }) =>
  error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;

/**
 * A list's states around its table: the load error (or `error`, when the page has its own),
 * "Loading…" until the first answer, and the empty state (`empty`, with `children`) once
 * loaded with no items.
 */
export function ListStatus(props: { list: Async<unknown[]>; loading: string; empty: string; error?: string; children?: ComponentChildren }) {
  const { data, error, loading } = props.list;
  return (
    <>
      <ErrorText error={props.error ?? error} />
      {loading && !data && <Loading what={props.loading} />}
      {data && data.length === 0 && <Empty title={props.empty}>{props.children}</Empty>}
    </>
  );
}

// ---- forms --------------------------------------------------------------------------

let fieldSeq = 0;
export function Field(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: string;
  placeholder?: string;
  hint?: string;
  required?: boolean;
  autoFocus?: boolean;
  name?: string;
  autocomplete?: string;
  multiline?: boolean;
  /** The server's message about this field: marks it invalid and is shown (and announced) under it. */
  error?: string;
}) {
  const id = useRef(`f${++fieldSeq}`).current;
  const described = [props.error && `${id}-err`, props.hint && `${id}-hint`].filter(Boolean).join(" ");
  const common = {
    id,
    name: props.name,
    value: props.value,
    placeholder: props.placeholder,
    required: props.required,
    autoFocus: props.autoFocus,
    "aria-invalid": props.error ? true : undefined,
    "aria-describedby": described || undefined,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={4} spellcheck={false} />
      ) : (
        <input {...common} type={(props.type ?? "text") as "text"} autocomplete={props.autocomplete ?? "off"} />
      )}
      {props.error && (
        <small id={`${id}-err`} class="hint error-text" role="alert">
          {props.error}
        </small>
      )}
      {props.hint && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

export type Option = string | { value: string; label: string };

/** The <option>s of a select; a string option is its own label. */
export function Options({ options }: { options: Option[] }) {
  return (
    <>
      {options.map((o) => {
        const { value, label } = typeof o === "string" ? { value: o, label: o } : o;
        return (
          <option key={value} value={value}>
            {label}
          </option>
        );
      })}
    </>
  );
}

export function Select(props: { label: string; value: string; options: Option[]; onChange: (v: string) => void; name?: string; required?: boolean }) {
  const id = useRef(`f${++fieldSeq}`).current;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        required={props.required}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        <Options options={props.options} />
      </select>
    </div>
  );
}

export function Check(props: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label class="check">
      <input type="checkbox" checked={props.checked} onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)} />{" "}
      {props.label}
    </label>
  );
}

/** Runs a form action: disables the button while busy, shows the API's message inline. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
      return true;
    } catch (e) {
      setError(messageOf(e));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

/**
 * A form's buttons: "Cancel" (closes without saving; only with `onCancel`, as in a dialog) and
 * the submit button, disabled while `disabled`.
 */
export function FormActions(props: { submit: string; disabled: boolean; onCancel?: () => void }) {
  return (
    <div class="actions">
      {props.onCancel && (
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      )}
      <button type="submit" class="primary" disabled={props.disabled}>
        {props.submit}
      </button>
    </div>
  );
}

// ---- dialogs ------------------------------------------------------------------------

/** A modal <dialog>: focus is trapped by the browser, Escape closes it. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const prev = document.activeElement as HTMLElement | null;
    return () => prev?.focus?.();
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? "modal wide" : "modal"}
      aria-labelledby="modal-title"
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <h2 id="modal-title">{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** A confirmation dialog for consequential actions. */
export function Confirm(props: {
  title: string;
  body: ComponentChildren;
  confirm: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}) {
  const a = useAction();
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <div class="modal-body">{props.body}</div>
      <ErrorText error={a.error} />
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? "danger" : "primary"}
          disabled={a.busy}
          onClick={async () => {
            if (await a.run(props.onConfirm)) props.onClose();
          }}
        >
          {props.confirm}
        </button>
      </div>
    </Modal>
  );
}

/** `rows` with the key (`j` 0) or value (`j` 1) of row `i` set to `v`. */
export const setPair = (rows: [string, string][], i: number, j: 0 | 1, v: string) =>
  rows.map((r, k) => (k === i ? ((j === 0 ? [v, r[1]] : [r[0], v]) as [string, string]) : r));

/**
 * An editable list of rows in a fieldset: "None." when there are none, each row's own inputs
 * (`row`) followed by its Remove button, and an Add button that appends `blank()`.
 */
export function EditableRows<R>(props: {
  label: string;
  rows: R[];
  onChange: (rows: R[]) => void;
  row: (r: R, i: number) => ComponentChildren;
  removeLabel: (i: number) => string;
  addLabel: string;
  blank: () => R;
}) {
  return (
    <fieldset class="kv">
      <legend>{props.label}</legend>
      {props.rows.length === 0 && <p class="muted">None.</p>}
      {props.rows.map((r, i) => (
        <div class="kv-row" key={i}>
          {props.row(r, i)}
          <button type="button" class="link" aria-label={props.removeLabel(i)} onClick={() => props.onChange(props.rows.filter((_, k) => k !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="secondary small" onClick={() => props.onChange([...props.rows, props.blank()])}>
        {props.addLabel}
      </button>
    </fieldset>
  );
}

/** An editable list of strings, one input per row (its name: `noun` and the row number). */
export function StringRows(props: { label: string; noun: string; rows: string[]; onChange: (rows: string[]) => void; placeholder?: string }) {
  const noun = props.noun.toLowerCase();
  return (
    <EditableRows
      label={props.label}
      rows={props.rows}
      onChange={props.onChange}
      removeLabel={(i) => `Remove ${noun} ${i + 1}`}
      addLabel={`Add ${noun}`}
      blank={() => ""}
      row={(v, i) => (
        <input
          class="span-2"
          aria-label={`${props.noun} ${i + 1}`}
          placeholder={props.placeholder}
          value={v}
          onInput={(e) => props.onChange(props.rows.map((x, k) => (k === i ? (e.currentTarget as HTMLInputElement).value : x)))}
        />
      )}
    />
  );
}

/** Key-value rows editor used for parameters, templates and variables. */
export function KeyValues(props: {
  label: string;
  rows: [string, string][];
  onChange: (rows: [string, string][]) => void;
  keyLabel: string;
  valueLabel: string;
  multilineValue?: boolean;
  addLabel?: string;
}) {
  const set = (i: number, j: 0 | 1, v: string) => props.onChange(setPair(props.rows, i, j, v));
  return (
    <EditableRows
      label={props.label}
      rows={props.rows}
      onChange={props.onChange}
      removeLabel={(i) => `Remove ${props.keyLabel} ${i + 1}`}
      addLabel={props.addLabel ?? `Add ${props.keyLabel.toLowerCase()}`}
      blank={() => ["", ""] as [string, string]}
      row={(r, i) => (
        <>
          <input aria-label={`${props.keyLabel} ${i + 1}`} placeholder={props.keyLabel} value={r[0]} onInput={(e) => set(i, 0, (e.currentTarget as HTMLInputElement).value)} />
          {props.multilineValue ? (
            <textarea aria-label={`${props.valueLabel} ${i + 1}`} placeholder={props.valueLabel} value={r[1]} rows={3} spellcheck={false} onInput={(e) => set(i, 1, (e.currentTarget as HTMLTextAreaElement).value)} />
          ) : (
            <input aria-label={`${props.valueLabel} ${i + 1}`} placeholder={props.valueLabel} value={r[1]} onInput={(e) => set(i, 1, (e.currentTarget as HTMLInputElement).value)} />
          )}
        </>
      )}
    />
  );
}

export const entries = (o?: Record<string, unknown>): [string, string][] =>
  Object.entries(o ?? {}).map(([k, v]) => [k, String(v)]);
export const fromEntries = (rows: [string, string][]) =>
  Object.fromEntries(rows.filter(([k]) => k.trim() !== "").map(([k, v]) => [k.trim(), v]));
