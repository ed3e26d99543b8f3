import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readPortalContext } from './context.ts';
import { createPortal } from './portal.ts';

const app = new App();

// Refuses a missing or placeholder adminEmail/sesFromAddress with one message naming the keys.
createPortal(
  app,
  readPortalContext((key) => app.node.tryGetContext(key)),
);

// cdk-nag 3 runs as a validation plugin at synth; an unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
