-- The payer's address, from the input file's optional address columns: a bank registers a boleto with it (CNAB 240
-- segment Q). NULL when the file has no such column or the row leaves it empty; the CEP is stored as its 8 digits
-- and the UF uppercase. Nullable without a default, so adding them rewrites no row.
ALTER TABLE debts ADD COLUMN payer_address TEXT;
ALTER TABLE debts ADD COLUMN payer_district TEXT;
ALTER TABLE debts ADD COLUMN payer_zip_code TEXT;
ALTER TABLE debts ADD COLUMN payer_city TEXT;
ALTER TABLE debts ADD COLUMN payer_state TEXT;
