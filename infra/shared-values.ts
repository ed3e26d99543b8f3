import { type Stack, Token } from 'aws-cdk-lib';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';

/**
 * What the stateless stack needs from the stateful one. It travels through SSM parameters, not a
 * CDK cross-stack reference: with "@aws-cdk/core:defaultCrossStackReferences": "weak" a reference
 * becomes Fn::GetStackOutput, which CloudFormation resolves only when the consuming stack is
 * updated, and `cdk deploy` skips a stack whose template did not change, so a replaced user pool
 * would leave the functions and config.json on the old id. A CloudFormation parameter of type
 * AWS::SSM::Parameter::Value<String> is read again on every deploy, and the CDK CLI never skips a
 * stack that has one, so one `cdk deploy --all` carries a new pool id through.
 */
export const SHARED_KEYS = [
  'tableName',
  'tableArn',
  'userPoolId',
  'userPoolArn',
  'userPoolClientId',
  'oneTimeSecretKeyArn',
  'certificateKeyArn',
] as const;
export type SharedKey = (typeof SHARED_KEYS)[number];
export type SharedValues = Readonly<Record<SharedKey, string>>;

/** SSM parameter names are per region, so a copy in another region has its own. */
export function sharedParameterName(producerStackName: string, key: SharedKey): string {
  const kebab = key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  return `/device-portal/${producerStackName}/${kebab}`;
}

/** Writes each value of the producing (stateful) stack to its parameter. */
export function publishSharedValues(producer: Stack, values: SharedValues): void {
  if (Token.isUnresolved(producer.stackName)) throw new Error('the stateful stack needs a literal name');
  for (const key of SHARED_KEYS) {
    new StringParameter(producer, `Shared${key[0]?.toUpperCase()}${key.slice(1)}`, {
      parameterName: sharedParameterName(producer.stackName, key),
      stringValue: values[key],
      description: `Device portal: ${key} of ${producer.stackName}, read by the stateless stack at each deploy`,
    });
  }
}

/** Reads every shared value in the consuming stack, at deploy time, and deploys after the producer. */
export function consumeSharedValues(consumer: Stack, producer: Stack): SharedValues {
  consumer.addStackDependency(producer, 'reads the shared values the stateful stack writes to SSM');
  const values: Partial<Record<SharedKey, string>> = {};
  for (const key of SHARED_KEYS) {
    values[key] = StringParameter.valueForStringParameter(
      consumer,
      sharedParameterName(producer.stackName, key),
    );
  }
  return values as SharedValues;
}
