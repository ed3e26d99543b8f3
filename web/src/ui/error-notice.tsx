/** What went wrong, as the server or the browser said it, announced at once (role=alert); nothing when there is nothing. */
import { Icon } from './icons.tsx';

export function ErrorNotice({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p class="notice notice-error" role="alert">
      <Icon name="alert" size={18} />
      <span>{message}</span>
    </p>
  );
}
