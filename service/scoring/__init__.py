"""Pure scoring over domain values with an explicit `as_of` (no clock, settings or I/O).

Entry points:
- `customer.score_customer`: everything about one customer (stateless / real-time scoring);
- `batch.score_population`: a whole population, streamed by chunks (vectorised);
- `surveys.metric_by_group` / `surveys.trend`: NPS, CSAT, CES for any grouping;
- `profile.experience_profile` / `profile.explain_change`: the explained experience score;
- `rollup.account_profile`: an account's score from its contacts;
- `churn.bgnbd.fit_bgnbd` (scheduled), `churn.training.snapshot_table` and
  `churn.classifier.train_churn_classifier` (when the CRM has churn labels);
- `actions.engine.plan_actions`: next-best-action tasks from YAML playbooks;
- `uplift.playbook_uplift`: whether a playbook worked.
See docs/scoring.md.
"""
