/** The work-email field of the sign-in and /go forms: the same keyboard, autofill and label on both. */
export function EmailField({
  id,
  value,
  onInput,
}: {
  id: string;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={id}>Email</label>
      <input
        id={id}
        type="email"
        name="username"
        autoComplete="username"
        inputMode="email"
        autocapitalize="off"
        spellcheck={false}
        required
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
    </div>
  );
}
