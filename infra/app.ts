import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type PortalContext, readPortalContext } from './context.ts';
import { createPortal } from './portal.ts';

const app = new App();

// Refuses a missing or placeholder adminEmail/sesFromAddress with one message naming the keys
// (no stack trace: the message says all there is to do).
let context: PortalContext;
try {
  context = readPortalContext((key) => app.node.tryGetContext(key));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
createPortal(app, context);

// cdk-nag 3 runs as a validation plugin at synth; an unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
