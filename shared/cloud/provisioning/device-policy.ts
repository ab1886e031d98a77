/**
 * The IoT policy every provisioned device gets, as the workshop's CloudFormation stack made it: a device
 * may connect only with its thing name as client id, and publish, subscribe and receive only on its own
 * topics: the AWS reserved topics of its thing (`$aws/things/<thing>/...`: Jobs, Shadow) and its
 * telemetry prefix (`<prefix>/<thing>/...`). `${iot:Connection.Thing.ThingName}` makes one policy serve
 * every device.
 */

/** Default first topic level of device telemetry (`wind-turbine/<thing>/...`). */
export const DEFAULT_TELEMETRY_PREFIX = 'wind-turbine';

const THING = '${iot:Connection.Thing.ThingName}';

/** Topic names a device uses, for its configuration (the policy allows exactly these families). */
export function deviceTopics(thingName: string, telemetryPrefix = DEFAULT_TELEMETRY_PREFIX): { telemetry: string; heartbeat: string; alarms: string; thingRoot: string } {
  return {
    telemetry: `${telemetryPrefix}/${thingName}/telemetry`,
    heartbeat: `${telemetryPrefix}/${thingName}/heartbeat`,
    alarms: `${telemetryPrefix}/${thingName}/alarms`,
    thingRoot: `$aws/things/${thingName}`,
  };
}

/** The policy document (JSON text) for devices of one region and account. */
export function devicePolicyDocument(region: string, accountId: string, telemetryPrefix = DEFAULT_TELEMETRY_PREFIX): string {
  if (!/^[A-Za-z0-9_-]+$/.test(telemetryPrefix)) {
    throw new Error(`telemetry prefix "${telemetryPrefix}" must be one topic level of letters, digits, '_' or '-'`);
  }
  const arn = (type: string, rest: string): string => `arn:aws:iot:${region}:${accountId}:${type}/${rest}`;
  const own = [`$aws/things/${THING}/*`, `${telemetryPrefix}/${THING}/*`];
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', THING) },
        { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: own.map((t) => arn('topic', t)) },
        { Effect: 'Allow', Action: 'iot:Subscribe', Resource: own.map((t) => arn('topicfilter', t)) },
      ],
    },
    null,
    2,
  );
}
