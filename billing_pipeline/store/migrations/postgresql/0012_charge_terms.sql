-- Charge terms: the fine (multa), the monthly interest (juros de mora) and the early-payment discount a boleto is
-- printed and registered with.
--
-- A row's own terms, from the input file's optional columns, in basis points (200 = 2,00 percent) and a date. NULL: the
-- file has no such column or the row leaves it empty, and the policy holds. Nullable without a default, so adding
-- them rewrites no row.
ALTER TABLE debts ADD COLUMN fine_basis_points INTEGER;
ALTER TABLE debts ADD COLUMN interest_monthly_basis_points INTEGER;
ALTER TABLE debts ADD COLUMN discount_basis_points INTEGER;
ALTER TABLE debts ADD COLUMN discount_until DATE;
-- The beneficiary's policy in force when the file was registered (BILLING_FINE_PERCENT and the others), so that a
-- boleto's terms do not move when the settings change later. NULL: a file registered before this migration, whose
-- boletos were issued without terms.
ALTER TABLE source_files ADD COLUMN policy_fine_basis_points INTEGER;
ALTER TABLE source_files ADD COLUMN policy_interest_monthly_basis_points INTEGER;
ALTER TABLE source_files ADD COLUMN policy_discount_basis_points INTEGER;
ALTER TABLE source_files ADD COLUMN policy_discount_days_before_due INTEGER;
