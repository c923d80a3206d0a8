// A value the user copies (invoke URLs, a new API key): shown in full, with a copy button.
import { toast } from "../ui";

async function copyText(text: string) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (e.g. not a secure context): copy through a selected textarea.
    const t = document.createElement("textarea");
    t.value = text;
    document.body.appendChild(t);
    t.select();
    document.execCommand("copy");
    t.remove();
  }
}

/** A button copying `text`; its accessible name is `label`. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  return (
    <button
      type="button"
      class="secondary small"
      aria-label={label}
      onClick={async () => {
        await copyText(text);
        toast("Copied to the clipboard");
      }}
    >
      Copy
    </button>
  );
}

/** A value in monospace with its copy button. */
export function Copyable({ text, label, testId }: { text: string; label: string; testId?: string }) {
  return (
    <span class="copyable">
      <code data-testid={testId}>{text}</code> <CopyButton text={text} label={label} />
    </span>
  );
}
