import { Duration, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from './portal-function.ts';

/** Invitations (email or SMS) that could not be delivered, summed over 5 minutes, that raise the alarm. */
export const DELIVERY_FAILED_THRESHOLD = 5;

export interface PortalAlarmsProps {
  readonly api: IHttpApi;
  /** The route functions, by route name. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /** Subscribed to the alarm topic when set (context alarmEmail). */
  readonly alarmEmail?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * CloudWatch alarms of the AWS Serverless Lens basics: API 5xx, function errors and throttles, and
 * the portal's own DeliveryFailed metric, all notifying one SNS topic.
 */
export class PortalAlarms extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: PortalAlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { displayName: 'Device portal alarms', enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and alarm notifications carry only alarm names and states (no user data); a customer managed key is not worth its cost here.',
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string): void => {
      new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(action);
    };

    alarm(
      'Api5xx',
      props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      1,
      'The HTTP API answered 5xx: bad input never yields a 500, so this is a bug or an outage.',
    );
    for (const [name, fn] of props.functions) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
        `${name} failed (unhandled error or timeout).`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
        `${name} was throttled by Lambda (account or reserved concurrency).`,
      );
    }
    alarm(
      'DeliveryFailed',
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'DeliveryFailed',
        dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      }),
      DELIVERY_FAILED_THRESHOLD,
      'Invitations by email (SES) or SMS (SNS) are failing: check SES sending status, the SNS SMS spend limit and the sandbox.',
    );
  }
}
