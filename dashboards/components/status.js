// The one colour code of every CityStat page (LouieStat bands): a colour never stands alone,
// it always comes with its word and a plain-language meaning.
export const STATUSES = {
	green: { key: 'green', label: 'Green', meaning: 'on target', colour: '#15803d', background: '#dcfce7' },
	yellow: { key: 'yellow', label: 'Yellow', meaning: 'within 10% of target', colour: '#854d0e', background: '#fef9c3' },
	red: { key: 'red', label: 'Red', meaning: 'more than 10% off target', colour: '#b91c1c', background: '#fee2e2' },
	gray: { key: 'gray', label: 'Gray', meaning: 'not enough data', colour: '#4b5563', background: '#f3f4f6' }
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

/** A KPI value in its registry unit: pct → "71.2%", usd → "$1,234", score → "0.93", others as numbers. */
export function formatValue(value, unit) {
	const text = formatNumber(value);
	if (text === '–') return text;
	if (unit === 'pct') return text + '%';
	if (unit === 'score') return Number(value).toFixed(2);
	if (unit === 'usd') return '$' + Number(value).toLocaleString('en-US', { maximumFractionDigits: 0 });
	return text;
}

/** Whole US dollars with separators ("$1,234,567"); negative amounts as "-$1,000". */
export function formatDollars(value) {
	if (value === null || value === undefined || value === '' || Number.isNaN(Number(value))) return '–';
	const amount = Math.round(Number(value));
	return (amount < 0 ? '-$' : '$') + Math.abs(amount).toLocaleString('en-US');
}

/** A date as "Oct 2026" (month of a KPI period). */
export function formatMonth(value) {
	if (value === null || value === undefined || value === '') return '–';
	const date = value instanceof Date ? value : new Date(value);
	if (Number.isNaN(date.getTime())) return String(value);
	return date.toLocaleString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });
}
