import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createPortal } from './portal.ts';

const app = new App();

function contextString(key: string, fallback: string): string {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`Context "${key}" must be a non-empty string (cdk.json or --context ${key}=...)`);
  }
  return value;
}

createPortal(app, {
  adminEmail: contextString('adminEmail', 'admin@example.com'),
  sesFromAddress: contextString('sesFromAddress', 'no-reply@example.com'),
});

// cdk-nag 3 runs as a validation plugin at synth; an unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
