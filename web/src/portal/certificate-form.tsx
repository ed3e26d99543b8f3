/**
 * The certificate upload form: on the Certificates page to add one, in the Replace dialog for a
 * newer file. The browser reads the file and sends its bytes as base64; whether it is a
 * certificate, still valid, a duplicate or too big is the server's to say, and its message shows
 * by the field it concerns (the password's by the password field, the file's by the file field).
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type {
  CertificateListResponse,
  CertificateSummary,
  CertificateUploadRequest,
} from '../../../functions/core/api-types.ts';
import { ApiError, api, errorMessage } from '../api.ts';
import { formatBytes } from '../format.ts';
import { Icon } from '../ui/icons.tsx';

/** What the file picker offers: PEM and DER certificates, PKCS#12 bundles. */
export const CERTIFICATE_FILE_TYPES = '.pem,.crt,.cer,.der,.p12,.pfx';

/** Refusals about the file's password: shown by the password field (which they bring up). */
const PASSWORD_CODES: ReadonlySet<string> = new Set(['PASSWORD_REQUIRED', 'WRONG_PASSWORD']);

/** Refusals about the file itself: shown by the file field. The others show above the button. */
const FILE_CODES: ReadonlySet<string> = new Set([
  'NOT_A_CERTIFICATE',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_NOT_YET_VALID',
  'FILE_TOO_LARGE',
  'DUPLICATE_CERTIFICATE',
  'PRIVATE_KEY_IN_PEM',
  // The route's own body cap, for a file far over the limit.
  'BODY_TOO_LARGE',
]);

/** A PKCS#12 file by its name: it comes with a password, so the field shows before the server asks. */
function looksLikePkcs12(fileName: string): boolean {
  return /\.(p12|pfx)$/i.test(fileName);
}

/** The file's bytes as base64: the browser's own encoder, a data: URL without its header. */
export function readBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = typeof reader.result === 'string' ? reader.result : '';
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error('unreadable'));
    reader.readAsDataURL(file);
  });
}

interface Errors {
  file?: string;
  password?: string;
  form?: string;
}

interface CertificateFormProps {
  /** GET /api/certificates' limits, for the hint; null while the list loads. */
  limits: CertificateListResponse['limits'] | null;
  /** Replace: the certificate the new file takes the place of. */
  replaces?: CertificateSummary;
  submitLabel: string;
  onUploaded: (certificate: CertificateSummary) => void;
  /** The server no longer has the certificate being replaced: the list is out of date. */
  onGone?: () => void;
  /** In a dialog: a Cancel button beside the submit button. */
  onCancel?: () => void;
  /** While the upload runs (a dialog then stays open). */
  onBusyChange?: (busy: boolean) => void;
}

export function CertificateForm({
  limits,
  replaces,
  submitLabel,
  onUploaded,
  onGone,
  onCancel,
  onBusyChange,
}: CertificateFormProps) {
  const [file, setFile] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  /** The server asked for a password the file's name did not suggest. */
  const [askedForPassword, setAskedForPassword] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  /** The field to move to once the refusal is on screen (the password field may only now appear). */
  const [focusField, setFocusField] = useState<'file' | 'password' | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const base = useId();
  const ids = {
    file: `${base}-file`,
    fileHint: `${base}-file-hint`,
    fileError: `${base}-file-error`,
    password: `${base}-password`,
    passwordHint: `${base}-password-hint`,
    passwordError: `${base}-password-error`,
    formError: `${base}-form-error`,
  };
  const showPassword = askedForPassword || (file !== null && looksLikePkcs12(file.name));

  useEffect(() => onBusyChange?.(busy), [busy, onBusyChange]);

  useEffect(() => {
    if (focusField === 'password') {
      passwordRef.current?.focus();
      passwordRef.current?.select();
    } else if (focusField === 'file') {
      fileRef.current?.focus();
    }
    if (focusField) setFocusField(null);
  }, [focusField]);

  function choose(input: HTMLInputElement) {
    setFile(input.files?.[0] ?? null);
    // Another file: its own password, and the last file's refusals no longer apply.
    setPassword('');
    setAskedForPassword(false);
    setErrors({});
  }

  function refuse(error: unknown) {
    if (error instanceof ApiError && PASSWORD_CODES.has(error.code)) {
      setAskedForPassword(true);
      setErrors({ password: error.message });
      setFocusField('password');
    } else if (error instanceof ApiError && FILE_CODES.has(error.code)) {
      setErrors({ file: error.message });
      setFocusField('file');
    } else {
      if (error instanceof ApiError && error.status === 404 && replaces) onGone?.();
      setErrors({ form: errorMessage(error) });
    }
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    if (!file) {
      setErrors({ file: 'Choose the certificate file first.' });
      setFocusField('file');
      return;
    }
    setBusy(true);
    setErrors({});
    let content: string;
    try {
      content = await readBase64(file);
    } catch {
      setBusy(false);
      setErrors({ file: 'This file could not be read. Choose it again.' });
      setFocusField('file');
      return;
    }
    const body: CertificateUploadRequest = { fileName: file.name, content };
    // Empty means not given: the server says whether the file needs one.
    if (showPassword && password !== '') body.password = password;
    if (replaces) body.replaces = replaces.certificateId;
    try {
      const { certificate } = await api.uploadCertificate(body);
      setFile(null);
      setPassword('');
      setAskedForPassword(false);
      if (fileRef.current) fileRef.current.value = '';
      onUploaded(certificate);
    } catch (error) {
      refuse(error);
    } finally {
      setBusy(false);
    }
  }

  const describe = (...parts: (string | false | undefined)[]) => parts.filter(Boolean).join(' ') || undefined;

  return (
    <form class="certificate-form" onSubmit={submit} noValidate>
      <div class="field">
        <label for={ids.file}>{replaces ? 'Newer certificate file' : 'Certificate file'}</label>
        <input
          id={ids.file}
          ref={fileRef}
          type="file"
          accept={CERTIFICATE_FILE_TYPES}
          aria-invalid={errors.file ? 'true' : undefined}
          aria-describedby={describe(errors.file && ids.fileError, ids.fileHint)}
          onChange={(e) => choose(e.currentTarget)}
        />
        <p id={ids.fileHint} class="field-hint">
          PEM or DER (.pem, .crt, .cer, .der), or PKCS#12 with its private key (.p12, .pfx)
          {limits ? `, up to ${formatBytes(limits.maxFileBytes)}` : ''}. A private key only comes inside a
          password-protected .p12 or .pfx file.
        </p>
        {errors.file ? (
          <p id={ids.fileError} class="field-error" data-testid="file-error">
            {errors.file}
          </p>
        ) : null}
      </div>
      {showPassword ? (
        <div class="field">
          <label for={ids.password}>File password</label>
          <input
            id={ids.password}
            ref={passwordRef}
            type="password"
            // The file's password, not the portal's: no password manager should fill it in.
            autoComplete="off"
            value={password}
            aria-invalid={errors.password ? 'true' : undefined}
            aria-describedby={describe(errors.password && ids.passwordError, ids.passwordHint)}
            onInput={(e) => {
              setPassword(e.currentTarget.value);
              if (errors.password) setErrors({});
            }}
          />
          <p id={ids.passwordHint} class="field-hint">
            The password the file was exported with. The portal checks it and does not keep it.
          </p>
          {errors.password ? (
            <p id={ids.passwordError} class="field-error" data-testid="password-error">
              {errors.password}
            </p>
          ) : null}
        </div>
      ) : null}
      {errors.form ? (
        <p id={ids.formError} class="notice notice-error" role="alert" data-testid="form-error">
          <Icon name="alert" size={18} />
          <span>{errors.form}</span>
        </p>
      ) : null}
      <div class={onCancel ? 'dialog-actions' : 'certificate-form-actions'}>
        {onCancel ? (
          <button type="button" class="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        ) : null}
        <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          {busy ? 'Uploading…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
