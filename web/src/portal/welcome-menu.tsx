import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { MeResponse } from '../../../functions/core/api-types.ts';
import { navigate } from '../router.tsx';
import { Icon, type IconName } from '../ui/icons.tsx';

interface WelcomeMenuProps {
  me: MeResponse | null;
  /** Absent when the user lacks the register-device role. */
  onRegister: (() => void) | undefined;
  onSignOut: () => void;
}

interface Item {
  label: string;
  icon: IconName;
  /** A page of the portal (a link), or an action (a button). */
  href?: string;
  action?: () => void;
}

/** The Welcome menu at the top right: "Welcome, <name>" opens the user's actions. */
export function WelcomeMenu({ me, onRegister, onSignOut }: WelcomeMenuProps) {
  const [open, setOpen] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const focusFirst = useRef(false);
  const menuId = useId();

  const items: Item[] = [
    ...(onRegister ? [{ label: 'Register device', icon: 'plus' as const, action: onRegister }] : []),
    { label: 'Activity', icon: 'activity', href: '/activity' },
    { label: 'Certificates', icon: 'certificate', href: '/certificates' },
    { label: 'Account settings', icon: 'key', href: '/account' },
    { label: 'Helpdesk', icon: 'help', href: '/help' },
    ...(me?.isAdmin ? [{ label: 'Portal settings', icon: 'key' as const, href: '/admin' }] : []),
    { label: 'Sign out', icon: 'signOut', action: onSignOut },
  ];

  const menuItems = () => [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];

  useEffect(() => {
    if (!open) return;
    if (focusFirst.current) menuItems()[0]?.focus();
    const onPointer = (event: PointerEvent) => {
      if (event.target instanceof Node && !rootRef.current?.contains(event.target)) setOpen(false);
    };
    // And wherever else focus has gone meanwhile.
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      setOpen(false);
      buttonRef.current?.focus();
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  function close(refocus: boolean) {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  }

  function onMenuKey(event: KeyboardEvent) {
    const list = menuItems();
    const index = list.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => {
      event.preventDefault();
      list[(to + list.length) % list.length]?.focus();
    };
    switch (event.key) {
      case 'ArrowDown':
        return move(index + 1);
      case 'ArrowUp':
        return move(index - 1);
      case 'Home':
        return move(0);
      case 'End':
        return move(list.length - 1);
      case 'Escape':
        event.preventDefault();
        return close(true);
      case 'Tab':
        return close(false);
    }
  }

  if (!me) return <div class="welcome-placeholder" aria-hidden="true" />;

  return (
    <div class="welcome" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        class="welcome-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={(event) => {
          // Keyboard activation (detail 0) moves focus into the menu; a mouse click leaves it on the button.
          focusFirst.current = event.detail === 0;
          setOpen(!open);
        }}
        onKeyDown={(event) => {
          // Opened with the mouse, focus stays here: Escape closes the menu from here too.
          if (event.key === 'Escape' && open) {
            event.preventDefault();
            close(true);
          }
          if (event.key === 'ArrowDown' && !open) {
            event.preventDefault();
            focusFirst.current = true;
            setOpen(true);
          }
        }}
      >
        <span class="avatar" aria-hidden="true">
          {initials(me.user.displayName || me.user.email)}
        </span>
        <span class="welcome-text">Welcome, {me.user.displayName || me.user.email}</span>
        <Icon name="chevronDown" size={16} class={open ? 'chevron chevron-open' : 'chevron'} />
      </button>
      {open ? (
        <div id={menuId} class="menu" role="menu" aria-label="Account" ref={menuRef} onKeyDown={onMenuKey}>
          <div class="menu-header" role="presentation">
            <span class="menu-name">{me.user.displayName}</span>
            <span class="menu-email">{me.user.email}</span>
          </div>
          {items.map((item) =>
            item.href ? (
              <a
                key={item.label}
                href={item.href}
                role="menuitem"
                class="menu-item"
                tabIndex={-1}
                onClick={(event) => {
                  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
                    return;
                  event.preventDefault();
                  close(false);
                  if (item.href) navigate(item.href);
                }}
              >
                <Icon name={item.icon} size={18} />
                {item.label}
              </a>
            ) : (
              <button
                key={item.label}
                type="button"
                role="menuitem"
                class="menu-item"
                tabIndex={-1}
                onClick={() => {
                  close(false);
                  item.action?.();
                }}
              >
                <Icon name={item.icon} size={18} />
                {item.label}
              </button>
            ),
          )}
        </div>
      ) : null}
    </div>
  );
}

function initials(name: string): string {
  const parts = name
    .replace(/@.*/, '')
    .split(/[\s._-]+/)
    .filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '';
  return (first + last).toUpperCase();
}
