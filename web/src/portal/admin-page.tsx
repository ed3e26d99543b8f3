/**
 * `/admin`: the portal administrator's settings (issue 13.5–7). Reads the current settings with
 * their version, sends only what changed on that version, shows each refused field's message next
 * to it, and tells the administrator when someone else saved first.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type {
  AdminSettingsResponse,
  SettingsConflict,
  SettingsFieldIssues,
} from '../../../functions/core/api-types.ts';
import type { PortalSettings } from '../../../functions/core/settings.ts';
import type { Role } from '../../../functions/routes.ts';
import { ApiError, api, errorMessage } from '../api.ts';
import { Link } from '../router.tsx';
import './admin-page.css';
import { Icon } from '../ui/icons.tsx';
import type { PageProps } from './pages.ts';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const ROLE_LABELS: Record<Role, string> = {
  'self-service': 'Self-service',
  'register-device': 'Register device',
  lock: 'Lock',
  unlock: 'Unlock',
  locate: 'Locate',
  wipe: 'Wipe',
  retire: 'Retire',
  'change-ownership': 'Change ownership',
  'reset-secure-apps-passcode': 'Reset secure-apps passcode',
};

const PLATFORMS = [
  { key: 'IOS', label: 'iPhone and iPad', sample: 'iPhone or iPad' },
  { key: 'ANDROID', label: 'Android', sample: 'Android device' },
] as const;

interface GroupRow {
  id: number;
  name: string;
  roles: Role[];
}

function valueAt(source: unknown, path: string): unknown {
  let value: unknown = source;
  for (const key of path.split('.')) value = isObject(value) ? value[key] : undefined;
  return value;
}

function withValue<T>(source: T, path: string[], value: unknown): T {
  const [head, ...rest] = path;
  if (head === undefined || !isObject(source)) return value as T;
  return { ...source, [head]: rest.length === 0 ? value : withValue(source[head], rest, value) } as T;
}

/** Only the fields that differ (groupRoles whole: its keys are group names). */
function changesBetween(before: unknown, after: unknown, top = true): Json {
  const changes: Json = {};
  if (!isObject(before) || !isObject(after)) return changes;
  for (const key of Object.keys(after)) {
    if (top && key === 'version') continue;
    const a = before[key];
    const b = after[key];
    if (isObject(a) && isObject(b) && !(top && key === 'groupRoles')) {
      const inner = changesBetween(a, b, false);
      if (Object.keys(inner).length > 0) changes[key] = inner;
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      changes[key] = b;
    }
  }
  return changes;
}

/** The leaf paths that differ between two settings, for "what changed". */
function differingPaths(before: unknown, after: unknown, prefix = ''): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys]
      .filter((key) => !(prefix === '' && key === 'version'))
      .flatMap((key) => differingPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

let nextRowId = 1;
const rowsOf = (groupRoles: Record<string, Role[]>): GroupRow[] =>
  Object.entries(groupRoles).map(([name, roles]) => ({ id: nextRowId++, name, roles: [...roles] }));

const fieldId = (path: string) => `setting-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

/** Fills a template with sample values, as an invitation would be. */
function preview(template: string, platform: string, origin: string): string {
  const samples: Record<string, string> = {
    displayName: 'Alice Martin',
    username: 'alice@example.com',
    goUrl: `${origin || location.origin}/go`,
    expiresAt: 'June 2, 2025 at 11:00 AM UTC',
    platform,
    signInWith: 'the PIN 4829 1735',
  };
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => samples[name] ?? whole);
}

export function AdminPage({ me }: PageProps) {
  if (me && !me.isAdmin) return <OnlyAdmins />;
  if (!me) return <p class="muted">Loading…</p>;
  return <AdminSettings />;
}

function OnlyAdmins() {
  return (
    <section class="card empty-state" aria-labelledby="admin-heading">
      <div class="empty-illustration" aria-hidden="true">
        <Icon name="lock" size={36} />
      </div>
      <h1 id="admin-heading" class="empty-title">
        Only portal administrators can open this page
      </h1>
      <p class="empty-lead">
        The portal settings are changed by members of the portal-admins group. Ask your helpdesk if you need a
        setting changed.
      </p>
      <Link class="button button-primary" href="/">
        Go to My devices
      </Link>
    </section>
  );
}

function AdminSettings() {
  const [meta, setMeta] = useState<AdminSettingsResponse | null>(null);
  const [loadError, setLoadError] = useState<ApiError | string | null>(null);
  const [original, setOriginal] = useState<PortalSettings | null>(null);
  const [draft, setDraft] = useState<PortalSettings | null>(null);
  const [groups, setGroups] = useState<GroupRow[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [conflict, setConflict] = useState<{ details: SettingsConflict; theirs: string[] } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  function show(settings: PortalSettings) {
    setOriginal(settings);
    setDraft(settings);
    setGroups(rowsOf(settings.groupRoles));
    setErrors({});
  }

  useEffect(() => {
    api.adminSettings().then(
      (loaded) => {
        setMeta(loaded);
        show(loaded.settings);
      },
      (error: unknown) => setLoadError(error instanceof ApiError ? error : errorMessage(error)),
    );
  }, []);

  if (loadError instanceof ApiError && loadError.status === 403) return <OnlyAdmins />;
  if (loadError) {
    return (
      <p class="notice notice-error" role="alert">
        {loadError instanceof ApiError ? loadError.message : loadError}
      </p>
    );
  }
  if (!meta || !original || !draft) return <p class="muted">Loading the settings…</p>;

  const current: PortalSettings = {
    ...draft,
    groupRoles: Object.fromEntries(groups.map((row) => [row.name.trim(), row.roles])),
  };
  const changes = changesBetween(original, current);
  const dirty = Object.keys(changes).length > 0;

  const set = (path: string, value: unknown) => {
    setDraft((d) => (d ? withValue(d, path.split('.'), value) : d));
    setNotice(null);
  };

  async function save(event: Event) {
    event.preventDefault();
    if (!original) return;
    const missing = groups.findIndex((row) => row.name.trim() === '');
    if (missing >= 0) {
      setErrors({ [`group-${missing}`]: 'Name the Cognito group, or remove the row.' });
      return;
    }
    setSaving(true);
    setNotice(null);
    try {
      const saved = await api.saveAdminSettings({ version: original.version, changes });
      show(saved.settings);
      setConflict(null);
      setNotice(
        saved.changed.length === 0
          ? 'Nothing to save: the settings already hold these values.'
          : 'Settings saved. Users get them on their next request, within 10 seconds.',
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === 'SETTINGS_CHANGED') {
        const details = error.details as SettingsConflict;
        setConflict({ details, theirs: differingPaths(original, details.settings) });
        setErrors({});
      } else if (error instanceof ApiError && error.code === 'SETTINGS_INVALID') {
        const { fields } = error.details as SettingsFieldIssues;
        setErrors(Object.fromEntries(fields.map((f) => [f.path, f.message])));
      } else {
        setNotice(errorMessage(error));
      }
    } finally {
      setSaving(false);
    }
  }

  const errorFor = (path: string): string | undefined =>
    errors[path] ?? Object.entries(errors).find(([key]) => key.startsWith(`${path}.`))?.[1];

  const field = (path: string, label: string, options: FieldOptions = {}) => (
    <Field
      path={path}
      label={label}
      value={valueAt(current, path)}
      error={errorFor(path)}
      onChange={(value) => set(path, value)}
      {...options}
    />
  );

  const errorList = Object.entries(errors);

  return (
    <section aria-labelledby="admin-heading">
      <div class="page-header">
        <div>
          <h1 id="admin-heading">Portal settings</h1>
          <p class="muted page-subtitle">
            Version {original.version}. Changes reach users on their next request, within 10 seconds.
          </p>
        </div>
      </div>

      {conflict ? (
        <div class="notice notice-warning" role="alert">
          <Icon name="alert" size={20} />
          <span>
            <strong>Someone else saved the settings first.</strong> Their version is{' '}
            {conflict.details.version}. What they changed:{' '}
            {conflict.theirs.length > 0 ? conflict.theirs.join(', ') : 'nothing you can see'}.
            {conflict.details.changed.length > 0
              ? ` Now different from what you sent: ${conflict.details.changed.join(', ')}.`
              : ''}{' '}
            <button
              type="button"
              class="button button-small"
              onClick={() => {
                show(conflict.details.settings);
                setConflict(null);
              }}
            >
              Load their values
            </button>
          </span>
        </div>
      ) : null}
      {errorList.length > 0 ? (
        <div class="notice notice-error" role="alert">
          <Icon name="alert" size={20} />
          <span>
            Correct {errorList.length === 1 ? 'this setting' : 'these settings'} and save again:{' '}
            {errorList.map(([path, message]) => `${path}: ${message}`).join('; ')}
          </span>
        </div>
      ) : null}

      <form class="card admin-form" onSubmit={save} noValidate>
        <Section title="Registration">
          <fieldset class="field-group">
            <legend>Registration methods</legend>
            {field('registrationMethods.invitation', 'Invitation by email or SMS', { kind: 'check' })}
            {field('registrationMethods.pin', 'PIN shown on screen', { kind: 'check' })}
            {field('registrationMethods.qr', 'QR code', { kind: 'check' })}
            {field('registrationMethods.passwordAtGo', 'Password at /go', { kind: 'check' })}
          </fieldset>
          {field('pinLength', 'PIN length (digits)', { kind: 'number', hint: '6 to 12' })}
          {field('pinLifetimeMinutes', 'PIN, QR code and invitation lifetime (minutes)', {
            kind: 'number',
            hint: '10 minutes to 72 hours (4320)',
          })}
          {field('deviceLimitPerUser', 'Devices per user', { kind: 'number', hint: '1 to 50' })}
          {field('defaultOwnership', 'Default ownership', {
            kind: 'select',
            choices: [
              ['EMPLOYEE', 'Employee'],
              ['COMPANY', 'Company'],
            ],
          })}
          {field('usersMayChooseOwnership', 'Users may choose the ownership', { kind: 'check' })}
        </Section>

        <Section title="Derived credential and secure apps">
          {field('derivedCredential.enabled', 'Offer the Entrust derived credential', { kind: 'check' })}
          {field('derivedCredential.entrustUrl', 'Entrust self-service address', {
            kind: 'url',
            hint: 'https, no query, e.g. https://entrust.example.com/IdentityGuardSelfService',
          })}
          {field('secureAppsPinLifetimeMinutes', 'Secure-apps PIN lifetime (minutes)', {
            kind: 'number',
            hint: '5 to 1440',
          })}
        </Section>

        <Section title="Helpdesk contact">
          {field('helpdesk.name', 'Name')}
          {field('helpdesk.phone', 'Phone', { kind: 'tel' })}
          {field('helpdesk.email', 'Email', { kind: 'email' })}
          {field('helpdesk.url', 'Web address', { kind: 'url' })}
          {field('helpdesk.hours', 'Opening hours')}
          {field('helpdesk.note', 'Note', { kind: 'textarea' })}
        </Section>

        <Section title="Invitation templates">
          <p class="field-hint" id="template-variables">
            Variables:{' '}
            {meta.templateVariables.map((v) => (
              <code key={v}>{v} </code>
            ))}
          </p>
          {PLATFORMS.map((platform) => {
            const base = `invitationTemplates.${platform.key}`;
            const template = current.invitationTemplates[platform.key];
            return (
              <fieldset class="field-group" key={platform.key}>
                <legend>{platform.label}</legend>
                {field(`${base}.emailSubject`, 'Email subject', { describedBy: 'template-variables' })}
                {field(`${base}.emailBody`, 'Email body', {
                  kind: 'textarea',
                  rows: 7,
                  describedBy: 'template-variables',
                })}
                {field(`${base}.sms`, 'SMS', {
                  kind: 'textarea',
                  rows: 3,
                  describedBy: 'template-variables',
                })}
                <section
                  class="template-preview"
                  aria-label={`Preview of the ${platform.label} invitation`}
                  data-testid={`preview-${platform.key}`}
                >
                  <h3 class="section-subtitle">Preview with sample values</h3>
                  <p>
                    <strong>{preview(template.emailSubject, platform.sample, current.publicOrigin)}</strong>
                  </p>
                  <p class="preview-text">
                    {preview(template.emailBody, platform.sample, current.publicOrigin)}
                  </p>
                  <p class="preview-text">
                    <span class="muted">SMS: </span>
                    {preview(template.sms, platform.sample, current.publicOrigin)}
                  </p>
                </section>
              </fieldset>
            );
          })}
        </Section>

        <Section title="Roles">
          <RoleChecks
            legend="Everyone's roles"
            idPrefix="default-roles"
            roles={meta.roles}
            value={current.defaultRoles}
            error={errorFor('defaultRoles')}
            onChange={(roles) => set('defaultRoles', roles)}
          />
          {groups.map((row, index) => (
            <fieldset class="field-group group-row" key={row.id}>
              <legend>Cognito group {row.name || index + 1}</legend>
              <Field
                path={`group-${index}`}
                label="Group name"
                value={row.name}
                error={errors[`group-${index}`] ?? errorFor(`groupRoles.${row.name}`)}
                onChange={(name) =>
                  setGroups(groups.map((g) => (g.id === row.id ? { ...g, name: String(name) } : g)))
                }
              />
              <RoleChecks
                legend={`Roles of ${row.name || 'this group'}`}
                idPrefix={`group-${row.id}`}
                roles={meta.roles}
                value={row.roles}
                onChange={(roles) => setGroups(groups.map((g) => (g.id === row.id ? { ...g, roles } : g)))}
              />
              <button
                type="button"
                class="button button-small button-quiet-danger"
                onClick={() => setGroups(groups.filter((g) => g.id !== row.id))}
              >
                Remove group {row.name}
              </button>
            </fieldset>
          ))}
          <button
            type="button"
            class="button button-small"
            onClick={() => setGroups([...groups, { id: nextRowId++, name: '', roles: [] }])}
          >
            <Icon name="plus" size={16} /> Add a group
          </button>
        </Section>

        <Section title="Links and limits">
          {field('publicOrigin', 'Public origin for links', {
            kind: 'url',
            hint: 'An https origin such as https://devices.example.com; empty means this deployment',
          })}
          {field('invitationsPerUserPerHour', 'Invitations per user per hour', { kind: 'number' })}
          {field('smsPerDayCap', 'SMS per day (whole portal)', { kind: 'number' })}
          {field('goAttemptsPerAddress', '/go attempts per address per 15 minutes', { kind: 'number' })}
          {field('agentApp.androidStoreUrl', 'Agent app on Google Play', { kind: 'url' })}
          {field('agentApp.iosAppStoreUrl', 'Agent app on the App Store', { kind: 'url' })}
        </Section>

        <Section title="Sign-in">
          {field('mfaRequired', 'Second sign-in factor (authenticator app)', {
            kind: 'select',
            choices: [
              ['OFF', 'Each user chooses'],
              ['SENSITIVE', 'Required for wipe, retire and ownership changes'],
              ['ALL', 'Required for everyone'],
            ],
          })}
        </Section>

        <Section title="Device actions">
          {field('actionPolicy.wipeEmployeeOwned', 'Allow a full wipe of employee-owned devices', {
            kind: 'check',
          })}
          {field('commandLifetimeHours', 'Command lifetime (hours)', { kind: 'number', hint: '1 to 720' })}
          {field('notifyActionsByEmail', 'Email the user about each action on their device', {
            kind: 'check',
          })}
          {field('mapTiles.urlTemplate', 'Map tile address', {
            hint: 'https with {z}, {x} and {y}',
          })}
          {field('mapTiles.attribution', 'Map attribution')}
        </Section>

        <Section title="Regional defaults">
          {field('defaultCountry', 'Default country of phone numbers', { hint: 'Two letters, e.g. US' })}
          {field('defaultLanguage', 'Default language', { hint: 'e.g. en or de-CH' })}
          {field('defaultTimeZone', 'Default time zone', { hint: 'e.g. Europe/Berlin or UTC' })}
        </Section>

        <div class="card-actions admin-actions">
          <button type="submit" class="button button-primary" disabled={saving || !dirty}>
            {saving ? 'Saving…' : 'Save settings'}
          </button>
          <button type="button" class="button" disabled={saving || !dirty} onClick={() => show(original)}>
            Discard changes
          </button>
          <p role="status" class="muted">
            {notice ?? (dirty ? `Unsaved: ${differingPaths(original, current).join(', ')}` : '')}
          </p>
        </div>
      </form>
    </section>
  );
}

function Section({ title, children }: { title: string; children: ComponentChildren }) {
  const id = fieldId(`section-${title}`);
  return (
    <section class="admin-section" aria-labelledby={id}>
      <h2 id={id} class="section-title">
        {title}
      </h2>
      {children}
    </section>
  );
}

interface FieldOptions {
  kind?: 'text' | 'number' | 'check' | 'select' | 'textarea' | 'url' | 'email' | 'tel';
  hint?: string;
  choices?: readonly (readonly [string, string])[];
  rows?: number;
  describedBy?: string;
}

interface FieldProps extends FieldOptions {
  path: string;
  label: string;
  value: unknown;
  error: string | undefined;
  onChange: (value: unknown) => void;
}

function Field({
  path,
  label,
  value,
  error,
  onChange,
  kind = 'text',
  hint,
  choices,
  rows,
  describedBy,
}: FieldProps) {
  const id = fieldId(path);
  const described =
    [hint ? `${id}-hint` : '', error ? `${id}-error` : '', describedBy ?? ''].filter(Boolean).join(' ') ||
    undefined;
  const messages = (
    <>
      {hint ? (
        <p id={`${id}-hint`} class="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="field-error">
          {error}
        </p>
      ) : null}
    </>
  );
  if (kind === 'check') {
    return (
      <div class="field field-check">
        <label class="check">
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            aria-invalid={error ? true : undefined}
            aria-describedby={described}
            onChange={(e) => onChange(e.currentTarget.checked)}
          />
          <span>{label}</span>
        </label>
        {messages}
      </div>
    );
  }
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described,
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {kind === 'select' ? (
        <select {...common} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)}>
          {(choices ?? []).map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      ) : kind === 'textarea' ? (
        <textarea
          {...common}
          rows={rows ?? 3}
          value={String(value ?? '')}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      ) : (
        <input
          {...common}
          type={kind}
          inputMode={kind === 'number' ? 'numeric' : undefined}
          value={value === undefined || value === null ? '' : String(value)}
          onInput={(e) => {
            const raw = e.currentTarget.value;
            onChange(
              kind === 'number' && raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw,
            );
          }}
        />
      )}
      {messages}
    </div>
  );
}

function RoleChecks({
  legend,
  idPrefix,
  roles,
  value,
  error,
  onChange,
}: {
  legend: string;
  idPrefix: string;
  roles: Role[];
  value: Role[];
  error?: string | undefined;
  onChange: (roles: Role[]) => void;
}) {
  const errorId = `${idPrefix}-error`;
  return (
    <fieldset class="field-group role-checks" aria-describedby={error ? errorId : undefined}>
      <legend>{legend}</legend>
      {roles.map((role) => (
        <label class="check" key={role}>
          <input
            type="checkbox"
            checked={value.includes(role)}
            onChange={(e) =>
              onChange(e.currentTarget.checked ? [...value, role] : value.filter((r) => r !== role))
            }
          />
          <span>{ROLE_LABELS[role] ?? role}</span>
        </label>
      ))}
      {error ? (
        <p id={errorId} class="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
