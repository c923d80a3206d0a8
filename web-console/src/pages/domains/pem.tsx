// A PEM text area that can also be filled from a file (.pem, .crt, .key).
import { useRef } from "preact/hooks";
import { ErrorText, Field } from "../../ui";

let seq = 0;

/** A multiline PEM field with "load from a file"; `secret` keeps it from being autocompleted or spell-checked. */
export function PemField(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  required?: boolean;
  hint?: string;
  error?: string;
  placeholder?: string;
}) {
  const id = useRef(`pem${++seq}`).current;
  return (
    <div class="pem-field">
      <Field
        label={props.label}
        value={props.value}
        onInput={props.onInput}
        multiline
        required={props.required}
        hint={props.hint}
        error={props.error}
        placeholder={props.placeholder}
      />
      <label class="file-load" for={id}>
        Load {props.label.toLowerCase()} from a file
      </label>
      <input
        id={id}
        type="file"
        accept=".pem,.crt,.cer,.key,text/plain,application/x-pem-file"
        onChange={async (e) => {
          const f = (e.currentTarget as HTMLInputElement).files?.[0];
          if (f) props.onInput(await f.text());
        }}
      />
    </div>
  );
}

/** A select's server message, shown under it. */
export const FieldError = ({ error }: { error?: string }) => (error ? <ErrorText error={error} /> : null);
