-- KPI flags with the actions taken on each (oldest first), as text: a few hundred rows at most; the latest
-- commitment made in the workbench (owner, due date, follow-up) in its own columns.
-- The engine's "raised: <message>" action is shortened to "raised" (the message is its own column).
with actions as (
    select
        flag_id,
        acted_at,
        seq,
        actor || ': ' || case when action like 'raised: %' then 'raised' else action end as action_text,
        status
    from metrics.flag_actions
),
by_flag as (
    select
        flag_id,
        count(*) as action_count,
        string_agg(strftime(acted_at, '%Y-%m-%d') || ' ' || action_text || ' (' || status || ')', ' | '
                   order by acted_at, seq) as actions,
        last(strftime(acted_at, '%Y-%m-%d') || ' ' || action_text order by acted_at, seq) as last_action
    from actions
    group by flag_id
)
select
    f.flag_id,
    f.kpi_id,
    f.kpi_name,
    f.department_code,
    f.period,
    f.kind,
    f.critical,
    f.value,
    f.target,
    f.message,
    f.status,
    f.rag_status,
    f.recovered_period,
    f.cleared_period,
    f.days_open,
    strftime(f.closed_on, '%Y-%m-%d') as closed_on,
    a.action_count,
    a.actions,
    a.last_action,
    f.commitment,
    f.commitment_owner,
    strftime(f.commitment_due, '%Y-%m-%d') as commitment_due,
    f.follow_up
from metrics.flags f
left join by_flag a using (flag_id)
