/**
 * aws mode: the IoT topic rule that forwards the devices' operator alerts (`<prefix>/<thing>/alerts`) to
 * an SNS topic people subscribe to. The local cloud has no rules engine; there the dashboard's operator
 * console reads the alerts topic directly.
 */
import { CreateTopicRuleCommand, type CreateTopicRuleCommandInput, type IoTClient } from '@aws-sdk/client-iot';
import { DEFAULT_TELEMETRY_PREFIX } from '../edge/device-config';

/** The CreateTopicRule input: every device's alerts, unchanged (RAW), to snsTopicArn through roleArn. */
export function alertsRuleInput(ruleName: string, snsTopicArn: string, roleArn: string, telemetryPrefix = DEFAULT_TELEMETRY_PREFIX): CreateTopicRuleCommandInput {
  if (!/^[a-zA-Z0-9_]{1,128}$/.test(ruleName)) throw new Error(`rule name "${ruleName}" must be 1 to 128 letters, digits or '_' (IoT rule names have no '-')`);
  for (const [what, arn, service] of [['SNS topic', snsTopicArn, 'sns'], ['role', roleArn, 'iam']] as const) {
    if (!arn.startsWith(`arn:aws:${service}:`)) throw new Error(`${what} ARN "${arn}" must start with arn:aws:${service}:`);
  }
  return {
    ruleName,
    topicRulePayload: {
      sql: `SELECT * FROM '${telemetryPrefix}/+/alerts'`,
      awsIotSqlVersion: '2016-03-23',
      description: 'Edge contingency alerts to the operators (SNS)',
      ruleDisabled: false,
      actions: [{ sns: { targetArn: snsTopicArn, roleArn, messageFormat: 'RAW' } }],
    },
  };
}

/** Creates the alerts rule in the account of iot (aws mode). */
export async function createAlertsRule(iot: IoTClient, ruleName: string, snsTopicArn: string, roleArn: string, telemetryPrefix?: string): Promise<void> {
  await iot.send(new CreateTopicRuleCommand(alertsRuleInput(ruleName, snsTopicArn, roleArn, telemetryPrefix)));
}
