/**
 * `/certificates`: the certificates the user uploads for their devices (issue 13.3): what each one
 * is (subject, issuer, validity, fingerprint, key usage), where it stands on each Active device, and
 * Add, Replace and Delete. Everything shown is the server's: the page derives no validity itself.
 */
import './certificates-page.css';
import { useCallback, useState } from 'preact/hooks';
import type {
  CertificateDelivery,
  CertificateFormat,
  CertificateListResponse,
  CertificateSummary,
} from '../../../functions/core/api-types.ts';
import { ApiError, api, errorMessage } from '../api.ts';
import { formatDate, formatDateTime } from '../format.ts';
import { useNow } from '../hooks.ts';
import { useResource } from '../resource.ts';
import { Link } from '../router.tsx';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';
import { Icon, type IconName } from '../ui/icons.tsx';
import { When } from '../ui/when.tsx';
import { CertificateForm } from './certificate-form.tsx';
import type { PageProps } from './pages.ts';

/** While a certificate is on its way to a device, ask this often so that "installed" shows soon. */
const WATCH_MS = 3_000;

const loadCertificates = () => api.certificates();

const FORMAT_LABEL: Record<CertificateFormat, string> = {
  PEM: 'PEM',
  DER: 'DER',
  PKCS12: 'PKCS#12',
};

type OpenDialog = null | { kind: 'replace' | 'delete'; certificate: CertificateSummary };

function onTheWay(delivery: CertificateDelivery): boolean {
  return delivery.status === 'WAITING' || delivery.status === 'SENT';
}

/** The server's delivery states decide; the page only asks again while one is on its way. */
function watchWhileDelivering(data: CertificateListResponse | undefined): number | null {
  return data?.certificates.some((c) => c.deliveries.some(onTheWay)) ? WATCH_MS : null;
}

/** The list with the server's answer in it: a new certificate first (newest first), a replaced one in its place. */
function withCertificate(
  data: CertificateListResponse,
  certificate: CertificateSummary,
): CertificateListResponse {
  const known = data.certificates.some((c) => c.certificateId === certificate.certificateId);
  return {
    ...data,
    certificates: known
      ? data.certificates.map((c) => (c.certificateId === certificate.certificateId ? certificate : c))
      : [certificate, ...data.certificates],
  };
}

export function CertificatesPage(_props: PageProps) {
  const list = useResource(loadCertificates, { intervalMs: watchWhileDelivering, refreshOnVisible: true });
  const data = list.data;
  const certificates = data?.certificates ?? null;
  const now = useNow(15_000);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [dialogBusy, setDialogBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const close = useCallback(() => setDialog(null), []);

  const show = (certificate: CertificateSummary) => {
    if (data) list.replace(withCertificate(data, certificate));
    else list.reload();
  };

  return (
    <section
      aria-labelledby="certificates-heading"
      class="certificates-page"
      aria-busy={!data && !list.error}
    >
      <div class="page-header">
        <div>
          <h1 id="certificates-heading">Certificates</h1>
          <p class="muted page-subtitle">
            Certificates you add here go to your devices, for signed and encrypted email (S/MIME), Wi-Fi, VPN
            and apps that ask for one.
          </p>
        </div>
      </div>

      <div role="status" class="certificates-notice-slot">
        {notice ? (
          <p class="notice notice-info page-notice" data-testid="certificates-notice">
            <Icon name="check" size={18} />
            <span>{notice}</span>
          </p>
        ) : null}
      </div>

      <section class="card certificates-card" aria-labelledby="add-certificate-heading">
        <h2 id="add-certificate-heading" class="section-title">
          Add a certificate
        </h2>
        <CertificateForm
          limits={data?.limits ?? null}
          submitLabel="Upload certificate"
          onUploaded={(certificate) => {
            show(certificate);
            setNotice(
              `“${certificate.name}” is added.${certificate.deliveries.length > 0 ? ' Your devices get it at their next check-in.' : ''}`,
            );
          }}
        />
      </section>

      <section class="certificates-list-section" aria-labelledby="your-certificates-heading">
        <div class="certificates-list-head">
          <h2 id="your-certificates-heading" class="section-title">
            Your certificates
          </h2>
          {data ? (
            <p class="muted" data-testid="certificate-count">
              {data.certificates.length} of {data.limits.maxCertificates} allowed
            </p>
          ) : null}
        </div>
        {list.error ? (
          <div class="notice notice-error page-notice" role="alert">
            <Icon name="alert" size={18} />
            <span>{list.error}</span>
            <button type="button" class="button button-small" onClick={list.reload}>
              Try again
            </button>
          </div>
        ) : null}
        {certificates === null ? (
          list.error ? null : (
            <p class="muted" role="status">
              Loading your certificates…
            </p>
          )
        ) : certificates.length === 0 ? (
          <div class="card empty-state certificates-empty" data-testid="certificates-empty">
            <span class="empty-illustration" aria-hidden="true">
              <Icon name="certificate" size={28} />
            </span>
            <h3 class="empty-title">No certificates yet</h3>
            <p class="empty-lead">
              Add one above: for example the S/MIME certificate your company gave you for email. It then goes
              to each of your active devices.
            </p>
          </div>
        ) : (
          <ul class="certificate-list">
            {certificates.map((certificate) => (
              <li key={certificate.certificateId}>
                <CertificateCard
                  certificate={certificate}
                  now={now}
                  onReplace={() => setDialog({ kind: 'replace', certificate })}
                  onDelete={() => setDialog({ kind: 'delete', certificate })}
                />
              </li>
            ))}
          </ul>
        )}
      </section>

      <p class="page-back">
        <Link href="/">Back to My devices</Link>
      </p>

      {dialog?.kind === 'replace' ? (
        <Dialog
          title={`Replace “${dialog.certificate.name}”`}
          description="Choose the newer file. It takes this one's place in the list and goes to your devices again."
          onClose={close}
          busy={dialogBusy}
        >
          <CertificateForm
            limits={data?.limits ?? null}
            replaces={dialog.certificate}
            submitLabel="Replace certificate"
            onBusyChange={setDialogBusy}
            onGone={list.reload}
            onCancel={close}
            onUploaded={(certificate) => {
              close();
              show(certificate);
              setNotice(
                `“${certificate.name}” is replaced.${certificate.deliveries.length > 0 ? ' Your devices get the newer file at their next check-in.' : ''}`,
              );
            }}
          />
        </Dialog>
      ) : dialog?.kind === 'delete' ? (
        <DeleteDialog
          certificate={dialog.certificate}
          onClose={close}
          onGone={list.reload}
          onDeleted={(deleted) => {
            close();
            if (data) {
              list.replace({
                ...data,
                certificates: data.certificates.filter((c) => c.certificateId !== deleted.certificateId),
              });
            } else {
              list.reload();
            }
            setNotice(
              `“${deleted.name}” is deleted.${deleted.deliveries.length > 0 ? ' Your devices remove it at their next check-in.' : ''}`,
            );
          }}
        />
      ) : null}
    </section>
  );
}

function CertificateCard({
  certificate: c,
  now,
  onReplace,
  onDelete,
}: {
  certificate: CertificateSummary;
  now: number;
  onReplace: () => void;
  onDelete: () => void;
}) {
  const headingId = `certificate-${c.certificateId}`;
  return (
    <article
      class="card certificate-card"
      aria-labelledby={headingId}
      data-testid="certificate"
      data-certificate-id={c.certificateId}
    >
      <header class="certificate-head">
        <span class="certificate-tile">
          <Icon name="certificate" size={22} />
        </span>
        <div class="certificate-heading">
          <h3 id={headingId} class="certificate-name">
            {c.name}
          </h3>
          <p class="muted certificate-file">
            {c.fileName} · {FORMAT_LABEL[c.format]}
          </p>
        </div>
        {c.expiry.state !== 'VALID' ? (
          <span
            class={`certificate-tag certificate-tag-${c.expiry.state === 'EXPIRED' ? 'expired' : 'soon'}`}
            data-testid="expiry"
          >
            <Icon name="alert" size={14} />
            {c.expiry.state === 'EXPIRED'
              ? 'Expired: devices no longer accept it'
              : `Expires in ${c.expiry.daysLeft} ${c.expiry.daysLeft === 1 ? 'day' : 'days'}: replace it with a new one`}
          </span>
        ) : null}
        {c.hasPrivateKey ? (
          <span class="certificate-tag" data-testid="private-key">
            <Icon name="key" size={14} />
            Private key included
          </span>
        ) : null}
      </header>

      <dl class="details certificate-details">
        <div class="detail detail-wide">
          <dt>Subject</dt>
          <dd data-testid="subject">{c.subject}</dd>
        </div>
        <div class="detail detail-wide">
          <dt>Issuer</dt>
          <dd data-testid="issuer">{c.issuer}</dd>
        </div>
        <div class="detail">
          <dt>Valid</dt>
          <dd data-testid="validity">
            <time dateTime={c.validFrom}>{formatDate(c.validFrom)}</time>
            {' – '}
            <time dateTime={c.validTo}>{formatDate(c.validTo)}</time>
          </dd>
        </div>
        <div class="detail">
          <dt>Key usage</dt>
          <dd data-testid="key-usage">{c.keyUsage.length > 0 ? c.keyUsage.join(', ') : 'None stated'}</dd>
        </div>
        <div class="detail detail-wide">
          <dt>SHA-256 fingerprint</dt>
          <dd class="mono fingerprint" data-testid="fingerprint">
            {c.fingerprintSha256}
          </dd>
        </div>
        <div class="detail">
          <dt>Serial number</dt>
          <dd class="mono">{c.serialNumber}</dd>
        </div>
        {c.chainLength > 0 ? (
          <div class="detail">
            <dt>Chain</dt>
            <dd>
              {c.chainLength} more {c.chainLength === 1 ? 'certificate' : 'certificates'} in the file
            </dd>
          </div>
        ) : null}
        <div class="detail">
          <dt>Uploaded</dt>
          <dd data-testid="uploaded">
            <time dateTime={c.uploadedAt}>{formatDateTime(c.uploadedAt)}</time>
          </dd>
        </div>
        {c.replacedAt ? (
          <div class="detail">
            <dt>Replaced</dt>
            <dd data-testid="replaced">
              <time dateTime={c.replacedAt}>{formatDateTime(c.replacedAt)}</time>
            </dd>
          </div>
        ) : null}
      </dl>

      <div class="certificate-deliveries">
        <h4 class="certificate-deliveries-title">On your devices</h4>
        {c.deliveries.length > 0 ? (
          <ul class="deliveries" aria-label={`${c.name} on your devices`}>
            {c.deliveries.map((d) => (
              <DeliveryLine key={d.deviceId} delivery={d} now={now} />
            ))}
          </ul>
        ) : (
          <p class="muted certificate-no-devices">Not on any device: you have no active device.</p>
        )}
      </div>

      <div class="card-actions">
        <button type="button" class="button" onClick={onReplace}>
          <Icon name="refresh" size={18} />
          Replace<span class="visually-hidden"> {c.name}</span>
        </button>
        <button type="button" class="button button-quiet-danger" onClick={onDelete}>
          Delete<span class="visually-hidden"> {c.name}</span>
        </button>
      </div>
    </article>
  );
}

const DELIVERY_ICON: Record<CertificateDelivery['status'], IconName> = {
  WAITING: 'clock',
  SENT: 'send',
  INSTALLED: 'check',
  FAILED: 'alert',
};

/** "On Work iPhone: installed", "Waiting for Pixel's next check-in", from the server's status. */
function DeliveryLine({ delivery: d, now }: { delivery: CertificateDelivery; now: number }) {
  const device = <Link href={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceName}</Link>;
  const state =
    d.status === 'INSTALLED'
      ? 'delivery-sent'
      : d.status === 'FAILED'
        ? 'delivery-failed'
        : 'delivery-waiting';
  return (
    <li class={`delivery ${state}`} data-testid="delivery" data-status={d.status} data-device-id={d.deviceId}>
      <Icon name={DELIVERY_ICON[d.status]} size={16} />
      <span class="delivery-text">
        {d.status === 'WAITING' ? (
          <>Waiting for {device}'s next check-in</>
        ) : d.status === 'SENT' ? (
          <>
            On {device}: sent <When iso={d.at} now={now} />, being installed
          </>
        ) : d.status === 'INSTALLED' ? (
          <>
            On {device}: installed <When iso={d.at} now={now} />
          </>
        ) : (
          <>
            On {device}: <strong>not installed</strong> <When iso={d.at} now={now} />
            {d.error ? <span class="delivery-error">{d.error}</span> : null}
          </>
        )}
      </span>
    </li>
  );
}

function DeleteDialog({
  certificate,
  onClose,
  onDeleted,
  onGone,
}: {
  certificate: CertificateSummary;
  onClose: () => void;
  onDeleted: (certificate: CertificateSummary) => void;
  /** The server no longer has it: the list is out of date. */
  onGone: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const devices = certificate.deliveries;

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await api.deleteCertificate(certificate.certificateId);
      onDeleted(certificate);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) onGone();
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Delete “${certificate.name}”?`} onClose={onClose} size="small" busy={busy}>
      {devices.length > 0 ? (
        <>
          <p>It is deleted from the portal, and removed from these devices at their next check-in:</p>
          <ul class="certificate-device-list" data-testid="delete-devices">
            {devices.map((d) => (
              <li key={d.deviceId}>{d.deviceName}</li>
            ))}
          </ul>
          <p>Whatever uses it there, such as signed email, Wi-Fi or VPN, stops working with it.</p>
        </>
      ) : (
        <p>It is deleted from the portal. None of your devices has it.</p>
      )}
      <ErrorNotice message={error} />
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose} disabled={busy} autofocus>
          Keep certificate
        </button>
        <button type="button" class="button button-danger" onClick={confirm} disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          Delete certificate
        </button>
      </div>
    </Dialog>
  );
}
