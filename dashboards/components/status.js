// The one colour code of every CityStat page (LouieStat bands): a colour never stands alone,
// it always comes with its word and a plain-language meaning.
export const STATUSES = {
	green: { label: 'Green', meaning: 'on target', colour: '#15803d', background: '#dcfce7' },
	yellow: { label: 'Yellow', meaning: 'within 10% of target', colour: '#854d0e', background: '#fef9c3' },
	red: { label: 'Red', meaning: 'more than 10% off target', colour: '#b91c1c', background: '#fee2e2' },
	gray: { label: 'Gray', meaning: 'not enough data', colour: '#4b5563', background: '#f3f4f6' }
};

/** @param {string | null | undefined} status */
export function statusInfo(status) {
	return STATUSES[status ?? 'gray'] ?? STATUSES.gray;
}

/** Formats a KPI number the same way on every page: up to one decimal, thousands separators. */
export function formatNumber(value) {
	if (value === null || value === undefined || Number.isNaN(Number(value))) return '–';
	return Number(value).toLocaleString('en-US', { maximumFractionDigits: 1 });
}
