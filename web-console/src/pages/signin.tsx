import { useState } from "preact/hooks";
import { signIn, type User } from "../api";
import { ErrorText, Field, useAction } from "../ui";

export function SignIn({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const a = useAction();
  return (
    <main class="signin" id="main">
      <form
        class="card"
        aria-labelledby="signin-title"
        onSubmit={async (e) => {
          e.preventDefault();
          let u: User | undefined;
          if (await a.run(async () => (u = await signIn(username, password))) && u) onSignedIn(u);
          else setPassword("");
        }}
      >
        <h1 id="signin-title">Sign in to API Gateway</h1>
        <Field label="Username" name="username" value={username} onInput={setUsername} autocomplete="username" required autoFocus />
        <Field label="Password" name="password" type="password" value={password} onInput={setPassword} autocomplete="current-password" required />
        <ErrorText error={a.error} />
        <button type="submit" class="primary wide" disabled={a.busy}>
          {a.busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
