"""One module per bank; `BANKS` maps the three-digit bank code to it."""

from billing_pipeline.boleto.banks import banco_do_brasil, bradesco, caixa, itau, santander

BANKS = {module.code: module for module in (banco_do_brasil, itau, bradesco, caixa, santander)}
