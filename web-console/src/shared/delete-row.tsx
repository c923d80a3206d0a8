// "Delete" in a table row or a card, confirmed first (the WebSocket and HTTP API screens).
import { useState } from "preact/hooks";
import { del } from "../api";
import { Confirm, toast } from "../ui";

/** "Delete" in a row, confirmed first; `what` names the row for screen readers. */
export function DeleteRow({ what, title, path, onDone }: { what: string; title: string; path: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="link" aria-label={`Delete ${what}`} onClick={() => setOpen(true)}>
        Delete
      </button>
      {open && (
        <Confirm
          title={title}
          danger
          confirm="Delete"
          body={<p>Delete {what}?</p>}
          onClose={() => setOpen(false)}
          onConfirm={async () => {
            await del(path);
            toast(`Deleted ${what}`);
            onDone();
          }}
        />
      )}
    </>
  );
}
