import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The browser tests share one portal: sign-in runs first, so it sees Alice before any test has
 * registered a device for her; the rest run in name order.
 */
export class SignInFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => (file.moduleId.endsWith('sign-in.test.ts') ? 0 : 1);
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}
