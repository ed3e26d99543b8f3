import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { Icon } from './icons.tsx';

interface DialogProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** Shown under the title. */
  description?: ComponentChildren;
  size?: 'small' | 'medium';
  /** Disables closing (while a request runs). */
  busy?: boolean;
}

/** A modal built on the native <dialog>: focus moves in, Escape closes, the page behind is inert. */
export function Dialog({
  title,
  onClose,
  children,
  description,
  size = 'medium',
  busy = false,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const busyRef = useRef(busy);
  busyRef.current = busy;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      // Back to what opened the dialog; if that is gone (a menu item), to the page itself.
      if (opener?.isConnected) opener.focus();
      else document.getElementById('main')?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      class={`dialog dialog-${size}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onCancel={(event) => {
        event.preventDefault();
        if (!busyRef.current) onCloseRef.current();
      }}
    >
      <div class="dialog-header">
        <div>
          <h2 id={titleId} class="dialog-title">
            {title}
          </h2>
          {description ? (
            <p id={descId} class="dialog-description">
              {description}
            </p>
          ) : null}
        </div>
        <button
          type="button"
          class="icon-button"
          aria-label="Close"
          onClick={() => onClose()}
          disabled={busy}
        >
          <Icon name="close" />
        </button>
      </div>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}
