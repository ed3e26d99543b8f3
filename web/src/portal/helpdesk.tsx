import type { HelpdeskContact } from '../../../functions/core/api-types.ts';
import { Icon } from '../ui/icons.tsx';

export function telHref(phone: string): string {
  return `tel:${phone.replace(/[^\d+]/g, '')}`;
}

/** The helpdesk contact as the administrator configured it; empty fields are left out. */
export function HelpdeskDetails({ contact }: { contact: HelpdeskContact }) {
  return (
    <div class="helpdesk">
      {contact.name ? <p class="helpdesk-name">{contact.name}</p> : null}
      <ul class="contact-list">
        {contact.phone ? (
          <li>
            <Icon name="phone" size={18} />
            <a href={telHref(contact.phone)}>{contact.phone}</a>
          </li>
        ) : null}
        {contact.email ? (
          <li>
            <Icon name="mail" size={18} />
            <a href={`mailto:${contact.email}`}>{contact.email}</a>
          </li>
        ) : null}
        {contact.url ? (
          <li>
            <Icon name="globe" size={18} />
            <a href={contact.url} target="_blank" rel="noopener noreferrer">
              {contact.url.replace(/^https?:\/\//, '').replace(/\/$/, '')}
            </a>
          </li>
        ) : null}
        {contact.hours ? (
          <li>
            <Icon name="clock" size={18} />
            <span>{contact.hours}</span>
          </li>
        ) : null}
      </ul>
      {contact.note ? <p class="notice notice-info helpdesk-note">{contact.note}</p> : null}
    </div>
  );
}
