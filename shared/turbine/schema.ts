/**
 * The raw frame schema of the original workshop's mini turbine: 23 CSV columns in this exact order, so a
 * recording from the original workshop loads as is and our files load in its tools.
 */

/** Column names, in file order. */
export const RAW_COLUMNS = [
  'nanoId',
  'turbineId',
  'arduino_timestamp',
  'nanoFreemem',
  'eventTime',
  'rps',
  'voltage',
  'qw',
  'qx',
  'qy',
  'qz',
  'gx',
  'gy',
  'gz',
  'ax',
  'ay',
  'az',
  'gearboxtemp',
  'ambtemp',
  'humidity',
  'pressure',
  'gas',
  'wind_speed_rps',
] as const;

export type RawColumn = (typeof RAW_COLUMNS)[number];
/** Every column but eventTime is numeric. */
export type NumericColumn = Exclude<RawColumn, 'eventTime'>;
export const NUMERIC_COLUMNS = RAW_COLUMNS.filter((c): c is NumericColumn => c !== 'eventTime');

/** One frame (one CSV row): the device reads one every 50 ms. */
export type RawFrame = { [K in NumericColumn]: number } & { eventTime: string };

/** Many frames stored column-wise: what the batch feature pipeline and plots consume. */
export interface FrameColumns {
  length: number;
  eventTime: string[];
  columns: { [K in NumericColumn]: Float64Array };
}

/** Frame period of the original device, in milliseconds. */
export const FRAME_PERIOD_MS = 50;
