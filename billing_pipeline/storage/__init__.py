"""Where the product's bytes live: the runtime folders of BILLING_DATA_DIR."""
