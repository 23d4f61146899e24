// The one colour code of every CityStat page (LouieStat bands): a colour never stands alone,
// it always comes with its word and a plain-language meaning.
export const STATUSES = {
	// `shape` (LouieStat): a colour is never the only cue, the shape tells the status in grayscale too.
	green: { key: 'green', label: 'Green', meaning: 'on target', colour: '#15803d', background: '#dcfce7', shape: 'circle' },
	yellow: { key: 'yellow', label: 'Yellow', meaning: 'within 10% of target', colour: '#854d0e', background: '#fef9c3', shape: 'triangle' },
	red: { key: 'red', label: 'Red', meaning: 'more than 10% off target', colour: '#b91c1c', background: '#fee2e2', shape: 'stop' },
	gray: { key: 'gray', label: 'Gray', meaning: 'not enough data', colour: '#4b5563', background: '#f3f4f6', shape: 'box' }
};

/** @param {string | null | undefined} status */
export function statusInfo(status) {
	return STATUSES[status ?? 'gray'] ?? STATUSES.gray;
}

/** Formats a number the same way on every page: up to one decimal, thousands separators. */
export function formatNumber(value) {
	if (value === null || value === undefined || value === '' || Number.isNaN(Number(value))) return '–';
	return Number(value).toLocaleString('en-US', { maximumFractionDigits: 1 });
}

// What follows a number of each registry unit. Counts and ratios carry none: the KPI's name says what is
// counted ("work orders completed", "violations per inspection"); a score is an index where 1.00 = on target.
export const UNIT_SUFFIX = { pct: '%', days: ' days', hours: ' h', seconds: ' s', miles: ' mi', acres: ' acres', points: ' pts' };

/** A KPI value in its registry unit: pct → "71.2%", usd → "$1,234", seconds → "85 s", days → "4.5 days",
 *  score → "0.93", count and ratio as plain numbers. */
export function formatValue(value, unit) {
	const text = formatNumber(value);
	if (text === '–') return text;
	if (unit === 'score') return Number(value).toFixed(2);
	if (unit === 'usd') return formatDollars(value);
	return text + (UNIT_SUFFIX[unit] ?? '');
}

/** The one address of a KPI's own page. */
export function kpiHref(kpiId) {
	return '/kpi/' + encodeURIComponent(kpiId) + '/';
}

/** Whole US dollars with separators ("$1,234,567"); negative amounts as "-$1,000". */
export function formatDollars(value) {
	if (value === null || value === undefined || value === '' || Number.isNaN(Number(value))) return '–';
	const amount = Math.round(Number(value));
	return (amount < 0 ? '-$' : '$') + Math.abs(amount).toLocaleString('en-US');
}

/** A month as "Oct 2026" everywhere: a date, or a period text "2026-10". */
/** Every "2026-10" period inside a text (the flag engine's messages) in the one month format: "Oct 2026". */
export function monthsInWords(text) {
	if (text === null || text === undefined) return '';
	return String(text).replace(/\b(\d{4})-(0[1-9]|1[0-2])\b(?!-\d)/g, (period) => formatMonth(period));
}

export function formatMonth(value) {
	if (value === null || value === undefined || value === '') return '–';
	if (typeof value === 'string' && /^\d{4}-\d{2}$/.test(value)) value = value + '-01T00:00:00Z';
	const date = value instanceof Date ? value : new Date(value);
	if (Number.isNaN(date.getTime())) return String(value);
	return date.toLocaleString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });
}
