"""FEBRABAN CNAB 240 cobrança codes and their texts: movements of a remessa and a retorno, and the reasons.

The tables follow the "Layout Padrão FEBRABAN 240 posições" (v10.x), notes:

- C004 "Código de Movimento Remessa" (P 16-17): what a remessa asks of the bank;
- C044 "Código de Movimento Retorno" (T 16-17): what the bank did or saw;
- C047 "Motivo da Ocorrência" (T 214-223, five 2-character codes): its meaning depends on the movement:
  table A (rejections, and the DDA mark of an entrada confirmada) for 02, 03, 26 and 30; table B (which tarifa
  or custas) for 28; table C (how a title was settled or written off) for 06, 09 and 17. FEBRABAN defines no
  reasons for the other movements; banks that send some anyway are shown the code as it came.

Texts are the manual's, in Portuguese, because they are what a bank's support desk and its portal say. Where a
bank's own manual prints a different meaning for a code, `_BANK_*` holds it with its source, and the bank's
text wins when the bank is known. An unknown code never raises: its text says it is not listed.

>>> movement_text("06")
'Liquidação'
>>> reason_text("03", "48")
'CEP Inválido'
>>> reason_text("06", "04")
'Compensação Eletrônica'
>>> reason_text("28", "08")
'Custas de Protesto'
>>> movement_text("98")
'código 98 não listado pelo FEBRABAN (C044)'
>>> split_reasons("A4  0000  ")
['A4']
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final


class RemessaMovement(StrEnum):
    """The C004 movements our remessas send (every C004 code is in `REMESSA_MOVEMENTS`)."""

    ENTRADA = "01"  # entrada de títulos: register a new boleto
    BAIXA = "02"  # pedido de baixa: withdraw it (the debt was cancelled or settled elsewhere)


class MovementCode(StrEnum):
    """The C044 retorno movements the boleto lifecycle acts on (every C044 code is in `RETORNO_MOVEMENTS`)."""

    ENTRY_CONFIRMED = "02"
    ENTRY_REJECTED = "03"
    SETTLED = "06"
    WRITTEN_OFF = "09"
    SETTLED_AFTER_WRITE_OFF = "17"  # or settled without ever being registered
    PROTEST_SENT = "23"
    PROTEST_WITHDRAWN = "24"  # retirada de cartório e manutenção em carteira
    PROTESTED = "25"  # protestado e baixado
    INSTRUCTION_REJECTED = "26"
    FEES_DEBITED = "28"
    PAYER_OCCURRENCE = "29"  # ocorrências do pagador (e.g. a DDA payer's claim)
    CHANGE_REJECTED = "30"
    PAID_CHEQUE_RETURNED = "44"  # a settlement by cheque that bounced: the title is open again
    PAID_CHEQUE_CLEARED = "45"
    PAID_CHEQUE_PENDING = "50"


# C004 — Código de Movimento Remessa.
REMESSA_MOVEMENTS: Final = MappingProxyType(
    {
        "01": "Entrada de Títulos",
        "02": "Pedido de Baixa",
        "03": "Protesto para Fins Falimentares",
        "04": "Concessão de Abatimento",
        "05": "Cancelamento de Abatimento",
        "06": "Alteração de Vencimento",
        "07": "Concessão de Desconto",
        "08": "Cancelamento de Desconto",
        "09": "Protestar",
        "10": "Sustar Protesto e Baixar Título",
        "11": "Sustar Protesto e Manter em Carteira",
        "12": "Alteração de Juros de Mora",
        "13": "Dispensar Cobrança de Juros de Mora",
        "14": "Alteração de Valor/Percentual de Multa",
        "15": "Dispensar Cobrança de Multa",
        "16": "Alteração do Valor de Desconto",
        "17": "Não Conceder Desconto",
        "18": "Alteração do Valor de Abatimento",
        "19": "Prazo Limite de Recebimento - Alterar",
        "20": "Prazo Limite de Recebimento - Dispensar",
        "21": "Alterar Número do Título Dado pelo Beneficiário",
        "22": "Alterar Número Controle do Participante",
        "23": "Alterar Dados do Pagador",
        "24": "Alterar Dados do Sacador/Avalista",
        "30": "Recusa da Alegação do Pagador",
        "31": "Alteração de Outros Dados",
        "33": "Alteração dos Dados do Rateio de Crédito",
        "34": "Pedido de Cancelamento dos Dados do Rateio de Crédito",
        "35": "Pedido de Desagendamento do Débito Automático",
        "40": "Alteração de Carteira",
        "41": "Cancelar Protesto",
        "42": "Alteração de Espécie de Título",
        "43": "Transferência de Carteira/Modalidade de Cobrança",
        "44": "Alteração de Contrato de Cobrança",
        "45": "Negativação Sem Protesto",
        "46": "Solicitação de Baixa de Título Negativado Sem Protesto",
        "47": "Alteração do Valor Nominal do Título",
        "48": "Alteração do Valor Mínimo/Percentual",
        "49": "Alteração do Valor Máximo/Percentual",
    }
)

# C044 — Código de Movimento Retorno.
RETORNO_MOVEMENTS: Final = MappingProxyType(
    {
        "02": "Entrada Confirmada",
        "03": "Entrada Rejeitada",
        "04": "Transferência de Carteira/Entrada",
        "05": "Transferência de Carteira/Baixa",
        "06": "Liquidação",
        "07": "Confirmação do Recebimento da Instrução de Desconto",
        "08": "Confirmação do Recebimento do Cancelamento do Desconto",
        "09": "Baixa",
        "11": "Títulos em Carteira (Em Ser)",
        "12": "Confirmação Recebimento Instrução de Abatimento",
        "13": "Confirmação Recebimento Instrução de Cancelamento Abatimento",
        "14": "Confirmação Recebimento Instrução Alteração de Vencimento",
        "15": "Franco de Pagamento",
        "17": "Liquidação Após Baixa ou Liquidação Título Não Registrado",
        "19": "Confirmação Recebimento Instrução de Protesto",
        "20": "Confirmação Recebimento Instrução de Sustação/Cancelamento de Protesto",
        "23": "Remessa a Cartório (Aponte em Cartório)",
        "24": "Retirada de Cartório e Manutenção em Carteira",
        "25": "Protestado e Baixado (Baixa por Ter Sido Protestado)",
        "26": "Instrução Rejeitada",
        "27": "Confirmação do Pedido de Alteração de Outros Dados",
        "28": "Débito de Tarifas/Custas",
        "29": "Ocorrências do Pagador",
        "30": "Alteração de Dados Rejeitada",
        "33": "Confirmação da Alteração dos Dados do Rateio de Crédito",
        "34": "Confirmação do Cancelamento dos Dados do Rateio de Crédito",
        "35": "Confirmação do Desagendamento do Débito Automático",
        "36": "Confirmação de Envio de E-mail/SMS",
        "37": "Envio de E-mail/SMS Rejeitado",
        "38": "Confirmação de Alteração do Prazo Limite de Recebimento",
        "39": "Confirmação de Dispensa de Prazo Limite de Recebimento",
        "40": "Confirmação da Alteração do Número do Título Dado pelo Beneficiário",
        "41": "Confirmação da Alteração do Número Controle do Participante",
        "42": "Confirmação da Alteração dos Dados do Pagador",
        "43": "Confirmação da Alteração dos Dados do Sacador/Avalista",
        "44": "Título Pago com Cheque Devolvido",
        "45": "Título Pago com Cheque Compensado",
        "46": "Instrução para Cancelar Protesto Confirmada",
        "47": "Instrução para Protesto para Fins Falimentares Confirmada",
        "48": "Confirmação de Instrução de Transferência de Carteira/Modalidade de Cobrança",
        "49": "Alteração de Contrato de Cobrança",
        "50": "Título Pago com Cheque Pendente de Liquidação",
        "51": "Título DDA Reconhecido pelo Pagador",
        "52": "Título DDA Não Reconhecido pelo Pagador",
        "53": "Título DDA Recusado pela CIP",
        "54": "Confirmação da Instrução de Baixa de Título Negativado sem Protesto",
        "55": "Confirmação de Pedido de Dispensa de Multa",
        "56": "Confirmação do Pedido de Cobrança de Multa",
        "57": "Confirmação do Pedido de Alteração de Cobrança de Juros",
        "58": "Confirmação do Pedido de Alteração do Valor/Data de Desconto",
        "59": "Confirmação do Pedido de Alteração do Beneficiário do Título",
        "60": "Confirmação do Pedido de Dispensa de Juros de Mora",
    }
)

# C047 table A — rejections (03, 26, 30) and the DDA mark of an entrada confirmada (02).
REJECTION_REASONS: Final = MappingProxyType(
    {
        "01": "Código do Banco Inválido",
        "02": "Código do Registro Detalhe Inválido",
        "03": "Código do Segmento Inválido",
        "04": "Código de Movimento Não Permitido para Carteira",
        "05": "Código de Movimento Inválido",
        "06": "Tipo/Número de Inscrição do Beneficiário Inválidos",
        "07": "Agência/Conta/DV Inválido",
        "08": "Nosso Número Inválido",
        "09": "Nosso Número Duplicado",
        "10": "Carteira Inválida",
        "11": "Forma de Cadastramento do Título Inválido",
        "12": "Tipo de Documento Inválido",
        "13": "Identificação da Emissão do Boleto de Pagamento Inválida",
        "14": "Identificação da Distribuição do Boleto de Pagamento Inválida",
        "15": "Características da Cobrança Incompatíveis",
        "16": "Data de Vencimento Inválida",
        "17": "Data de Vencimento Anterior a Data de Emissão",
        "18": "Vencimento Fora do Prazo de Operação",
        "19": "Título a Cargo de Bancos Correspondentes com Vencimento Inferior a XX Dias",
        "20": "Valor do Título Inválido",
        "21": "Espécie do Título Inválida",
        "22": "Espécie do Título Não Permitida para a Carteira",
        "23": "Aceite Inválido",
        "24": "Data da Emissão Inválida",
        "25": "Data da Emissão Posterior a Data de Entrada",
        "26": "Código de Juros de Mora Inválido",
        "27": "Valor/Taxa de Juros de Mora Inválido",
        "28": "Código do Desconto Inválido",
        "29": "Valor do Desconto Maior ou Igual ao Valor do Título",
        "30": "Desconto a Conceder Não Confere",
        "31": "Concessão de Desconto - Já Existe Desconto Anterior",
        "32": "Valor do IOF Inválido",
        "33": "Valor do Abatimento Inválido",
        "34": "Valor do Abatimento Maior ou Igual ao Valor do Título",
        "35": "Valor a Conceder Não Confere",
        "36": "Concessão de Abatimento - Já Existe Abatimento Anterior",
        "37": "Código para Protesto Inválido",
        "38": "Prazo para Protesto Inválido",
        "39": "Pedido de Protesto Não Permitido para o Título",
        "40": "Título com Ordem de Protesto Emitida",
        "41": "Pedido de Cancelamento/Sustação para Títulos sem Instrução de Protesto",
        "42": "Código para Baixa/Devolução Inválido",
        "43": "Prazo para Baixa/Devolução Inválido",
        "44": "Código da Moeda Inválido",
        "45": "Nome do Pagador Não Informado",
        "46": "Tipo/Número de Inscrição do Pagador Inválidos",
        "47": "Endereço do Pagador Não Informado",
        "48": "CEP Inválido",
        "49": "CEP Sem Praça de Cobrança (Não Localizado)",
        "50": "CEP Referente a um Banco Correspondente",
        "51": "CEP Incompatível com a Unidade da Federação",
        "52": "Unidade da Federação Inválida",
        "53": "Tipo/Número de Inscrição do Sacador/Avalista Inválidos",
        "54": "Sacador/Avalista Não Informado",
        "55": "Nosso Número no Banco Correspondente Não Informado",
        "56": "Código do Banco Correspondente Não Informado",
        "57": "Código da Multa Inválido",
        "58": "Data da Multa Inválida",
        "59": "Valor/Percentual da Multa Inválido",
        "60": "Movimento para Título Não Cadastrado",
        "61": "Alteração da Agência Cobradora/DV Inválida",
        "62": "Tipo de Impressão Inválido",
        "63": "Entrada para Título já Cadastrado",
        "64": "Número da Linha Inválido",
        "65": "Código do Banco para Débito Inválido",
        "66": "Agência/Conta/DV para Débito Inválido",
        "67": "Dados para Débito Incompatível com a Identificação da Emissão do Boleto de Pagamento",
        "68": "Débito Automático Agendado",
        "69": "Débito Não Agendado - Erro nos Dados da Remessa",
        "70": "Débito Não Agendado - Pagador Não Consta do Cadastro de Autorizante",
        "71": "Débito Não Agendado - Beneficiário Não Autorizado pelo Pagador",
        "72": "Débito Não Agendado - Beneficiário Não Participa da Modalidade Débito Automático",
        "73": "Débito Não Agendado - Código de Moeda Diferente de Real (R$)",
        "74": "Débito Não Agendado - Data Vencimento Inválida",
        "75": "Débito Não Agendado, Conforme seu Pedido, Título Não Registrado",
        "76": "Débito Não Agendado, Tipo/Num. Inscrição do Debitado, Inválido",
        "77": "Transferência para Desconto Não Permitida para a Carteira do Título",
        "78": "Data Inferior ou Igual ao Vencimento para Débito Automático",
        "79": "Data Juros de Mora Inválido",
        "80": "Data do Desconto Inválida",
        "81": "Tentativas de Débito Esgotadas - Baixado",
        "82": "Tentativas de Débito Esgotadas - Pendente",
        "83": "Limite Excedido",
        "84": "Número Autorização Inexistente",
        "85": "Título com Pagamento Vinculado",
        "86": "Seu Número Inválido",
        "87": "E-mail/SMS Enviado",
        "88": "E-mail Lido",
        "89": "E-mail/SMS Devolvido - Endereço de E-mail ou Número do Celular Incorreto",
        "90": "E-mail Devolvido - Caixa Postal Cheia",
        "91": "E-mail/Número do Celular do Pagador Não Informado",
        "92": "Pagador Optante por Boleto de Pagamento Eletrônico - E-mail Não Enviado",
        "93": "Código para Emissão de Boleto de Pagamento Não Permite Envio de E-mail",
        "94": "Código da Carteira Inválido para Envio E-mail",
        "95": "Contrato Não Permite o Envio de E-mail",
        "96": "Número de Contrato Inválido",
        "97": "Rejeição da Alteração do Prazo Limite de Recebimento",
        "98": "Rejeição de Dispensa de Prazo Limite de Recebimento",
        "99": "Rejeição da Alteração do Número do Título Dado pelo Beneficiário",
        "A1": "Rejeição da Alteração do Número Controle do Participante",
        "A2": "Rejeição da Alteração dos Dados do Pagador",
        "A3": "Rejeição da Alteração dos Dados do Sacador/Avalista",
        "A4": "Pagador DDA",
        "A5": "Registro Rejeitado - Título já Liquidado",
        "A6": "Código do Convenente Inválido ou Encerrado",
        "A7": "Título já se Encontra na Situação Pretendida",
        "A8": "Valor do Abatimento Inválido para Cancelamento",
        "A9": "Não Autoriza Pagamento Parcial",
        "B1": "Autoriza Recebimento Parcial",
        "B2": "Valor Nominal do Título Conflitante",
        "B3": "Tipo de Pagamento Inválido",
        "B4": "Valor Máximo/Percentual Inválido",
        "B5": "Valor Mínimo/Percentual Inválido",
    }
)

# C047 table B — which tarifa or custas a movement 28 debited.
FEE_REASONS: Final = MappingProxyType(
    {
        "01": "Tarifa de Extrato de Posição",
        "02": "Tarifa de Manutenção de Título Vencido",
        "03": "Tarifa de Sustação",
        "04": "Tarifa de Protesto",
        "05": "Tarifa de Outras Instruções",
        "06": "Tarifa de Outras Ocorrências",
        "07": "Tarifa de Envio de Duplicata ao Pagador",
        "08": "Custas de Protesto",
        "09": "Custas de Sustação de Protesto",
        "10": "Custas de Cartório Distribuidor",
        "11": "Custas de Edital",
        "12": "Tarifa Sobre Devolução de Título Vencido",
        "13": "Tarifa Sobre Registro Cobrada na Baixa/Liquidação",
        "14": "Tarifa Sobre Reapresentação Automática",
        "15": "Tarifa Sobre Rateio de Crédito",
        "16": "Tarifa Sobre Informações Via Fax",
        "17": "Tarifa Sobre Prorrogação de Vencimento",
        "18": "Tarifa Sobre Alteração de Abatimento/Desconto",
        "19": "Tarifa Sobre Arquivo Mensal (Em Ser)",
        "20": "Tarifa Sobre Emissão de Boleto de Pagamento Pré-Emitido pelo Banco",
    }
)

# C047 table C — how a title was settled (06, 17) or written off (09).
SETTLEMENT_REASONS: Final = MappingProxyType(
    {
        "01": "Por Saldo",
        "02": "Por Conta",
        "03": "Liquidação no Guichê de Caixa em Dinheiro",
        "04": "Compensação Eletrônica",
        "05": "Compensação Convencional",
        "06": "Por Meio Eletrônico",
        "07": "Após Feriado Local",
        "08": "Em Cartório",
        "09": "Comandada Banco",
        "10": "Comandada Cliente Arquivo",
        "11": "Comandada Cliente On-line",
        "12": "Decurso Prazo - Cliente",
        "13": "Decurso Prazo - Banco",
        "14": "Protestado",
        "15": "Título Excluído",
        "30": "Liquidação no Guichê de Caixa em Cheque",
        "31": "Liquidação em Banco Correspondente",
        "32": "Liquidação Terminal de Auto-Atendimento",
        "33": "Liquidação na Internet (Home Banking)",
        "34": "Liquidado Office Banking",
        "35": "Liquidado Correspondente em Dinheiro",
        "36": "Liquidado Correspondente em Cheque",
        "37": "Liquidado por Meio de Central de Atendimento (Telefone)",
    }
)

_TABLE_OF_MOVEMENT: Final = MappingProxyType(
    {
        "02": ("A", REJECTION_REASONS),
        "03": ("A", REJECTION_REASONS),
        "26": ("A", REJECTION_REASONS),
        "30": ("A", REJECTION_REASONS),
        "28": ("B", FEE_REASONS),
        "06": ("C", SETTLEMENT_REASONS),
        "09": ("C", SETTLEMENT_REASONS),
        "17": ("C", SETTLEMENT_REASONS),
    }
)

_REJECTION_MOVEMENTS = ("02", "03", "26", "30")

# Per-bank texts where the bank's own CNAB 240 manual differs from FEBRABAN's: bank code -> C044 code -> text.
# Sources, each transcribing its bank's manual: laravel-boleto src/Cnab/Retorno/Cnab240/Banco/{Caixa,Itau}.php.
_BANK_MOVEMENTS: Final[dict[str, dict[str, str]]] = {
    # Caixa, "Leiaute de Arquivo Eletrônico Padrão CNAB 240 - Cobrança Bancária CAIXA" (SIGCB), C044.
    "104": {
        "01": "Solicitação de Impressão de Títulos Confirmada",
        "35": "Confirmação de Inclusão Banco de Pagador",
        "36": "Confirmação de Alteração Banco de Pagador",
        "37": "Confirmação de Exclusão Banco de Pagador",
        "38": "Emissão de Boletos de Banco de Pagador",
        "39": "Manutenção de Pagador Rejeitada",
        "40": "Entrada de Título via Banco de Pagador Rejeitada",
        "41": "Manutenção de Banco de Pagador Rejeitada",
        "44": "Estorno de Baixa / Liquidação",
        "45": "Alteração de Dados",
        "46": "Liquidação On-line",
        "47": "Estorno de Liquidação On-line",
        "61": "Confirmação de Alteração do Valor Nominal do Título",
        "62": "Confirmação de Alteração do Valor/Percentual Mínimo/Máximo",
    },
    # Itaú, "Cobrança Itaú - CNAB 240", nota 17: Itaú numbers its movements its own way (17 is a rejected change,
    # 25 a payer's claim, 32 the protest); `febraban_movement` maps them to FEBRABAN's.
    "341": {
        "02": "Entrada Confirmada",
        "03": "Entrada Rejeitada",
        "04": "Alteração de Dados - Nova Entrada ou Alteração/Exclusão de Dados Acatada",
        "05": "Alteração de Dados - Baixa",
        "06": "Liquidação Normal",
        "08": "Liquidação em Cartório",
        "09": "Baixa Simples",
        "10": "Baixa por Ter Sido Liquidado",
        "11": "Em Ser (Só no Retorno Mensal)",
        "12": "Abatimento Concedido",
        "13": "Abatimento Cancelado",
        "14": "Vencimento Alterado",
        "15": "Baixas Rejeitadas",
        "16": "Instruções Rejeitadas",
        "17": "Alteração/Exclusão de Dados Rejeitada",
        "18": "Cobrança Contratual - Instruções/Alterações Rejeitadas/Pendentes",
        "19": "Confirmação Recebimento de Instrução de Protesto",
        "20": "Confirmação Recebimento de Instrução de Sustação de Protesto/Tarifa",
        "21": "Confirmação Recebimento de Instrução de Não Protestar",
        "23": "Protesto Enviado a Cartório/Tarifa",
        "24": "Instrução de Protesto Sustada",
        "25": "Alegações do Pagador",
        "26": "Tarifa de Aviso de Cobrança",
        "27": "Tarifa de Extrato Posição (B40X)",
        "28": "Tarifa de Relação das Liquidações",
        "29": "Tarifa de Manutenção de Títulos Vencidos",
        "30": "Débito Mensal de Tarifas (para Entradas e Baixas)",
        "32": "Baixa por Ter Sido Protestado",
        "33": "Custas de Protesto",
        "34": "Custas de Sustação",
        "35": "Custas de Cartório Distribuidor",
        "36": "Custas de Edital",
        "37": "Tarifa de Emissão de Boleto/Tarifa de Envio de Duplicata",
        "38": "Tarifa de Instrução",
        "39": "Tarifa de Ocorrências",
        "40": "Tarifa Mensal de Emissão de Boleto/Tarifa Mensal de Envio de Duplicata",
        "41": "Débito Mensal de Tarifas - Extrato de Posição (B4EP/B4OX)",
        "42": "Débito Mensal de Tarifas - Outras Instruções",
        "43": "Débito Mensal de Tarifas - Manutenção de Títulos Vencidos",
        "44": "Débito Mensal de Tarifas - Outras Ocorrências",
        "45": "Débito Mensal de Tarifas - Protesto",
        "46": "Débito Mensal de Tarifas - Sustação de Protesto",
        "47": "Baixa com Transferência para Desconto",
        "48": "Custas de Sustação Judicial",
        "51": "Tarifa Mensal Referente a Entradas Bancos Correspondentes na Carteira",
        "52": "Tarifa Mensal Baixas na Carteira",
        "53": "Tarifa Mensal Baixas em Bancos Correspondentes na Carteira",
        "54": "Tarifa Mensal de Liquidações na Carteira",
        "55": "Tarifa Mensal de Liquidações em Bancos Correspondentes na Carteira",
        "56": "Custas de Irregularidade",
        "57": "Instrução Cancelada",
        "60": "Entrada Rejeitada Carnê",
        "61": "Tarifa Emissão Aviso de Movimentação de Títulos (2154)",
        "62": "Débito Mensal de Tarifa - Aviso de Movimentação de Títulos (2154)",
        "63": "Título Sustado Judicialmente",
    },
}

# Banks whose movement codes are their own, not FEBRABAN's: their reasons never fall back to FEBRABAN's tables.
_OWN_MOVEMENT_CODES: Final = frozenset({"341"})

# Itaú's movements as the FEBRABAN movement with the same effect on a boleto (None: no effect we track).
_ITAU_AS_FEBRABAN: Final[dict[str, str | None]] = {
    "02": "02", "03": "03", "60": "03", "06": "06", "08": "06", "10": "06", "09": "09", "05": "09", "47": "09",
    "11": "11", "12": "12", "13": "13", "14": "14", "04": "27", "15": "26", "16": "26", "18": "26", "17": "30",
    "19": "19", "20": "20", "23": "23", "24": "24", "25": "29", "32": "25",
    **{code: "28" for code in ("26", "27", "28", "29", "30", "33", "34", "35", "36", "37", "38", "39", "40", "41",
                                "42", "43", "44", "45", "46", "48", "51", "52", "53", "54", "55", "56", "61", "62")},
}


def _for_movements(movements: tuple[str, ...], texts: dict[str, str]) -> dict[str, dict[str, str]]:
    return {movement: texts for movement in movements}


# Per-bank reasons where the bank's manual differs: bank code -> movement code -> reason code -> text.
_BANK_REASONS: Final[dict[str, dict[str, dict[str, str]]]] = {
    # Banco do Brasil, "Layout de Arquivos - Padrão CNAB 240 - Cobrança" (via laravel-boleto Bb.php): code 52.
    "001": _for_movements(_REJECTION_MOVEMENTS, {"52": "Registro de Título já Liquidado Cart. 17"}),
    # Caixa SIGCB (via laravel-boleto Caixa.php): the channel of a settlement/baixa and its rejection codes.
    "104": {
        **_for_movements(
            ("06", "09", "17", "46"),
            {
                "02": "Casa Lotérica",
                "03": "Agências CAIXA",
                "06": "Internet Banking",
                "07": "Correspondente Bancário",
                "10": "Comandada Cliente via Arquivo",
            },
        ),
        **_for_movements(
            _REJECTION_MOVEMENTS + ("39", "40", "41"),
            {
                "11": "Data de Geração Inválida",
                "64": "Entrada Inválida para Cobrança Caucionada",
                "65": "CEP do Pagador não Encontrado",
                "66": "Agência Cobradora não Encontrada",
                "67": "Agência Beneficiário não Encontrada",
                "68": "Movimentação Inválida para Título",
                "69": "Alteração de Dados Inválida",
                "70": "Apelido do Cliente não Cadastrado",
                "71": "Erro na Composição do Arquivo",
                "72": "Lote de Serviço Inválido",
                "73": "Código do Beneficiário Inválido",
                "74": "Beneficiário não Pertencente a Cobrança Eletrônica",
                "75": "Nome da Empresa Inválido",
                "76": "Nome do Banco Inválido",
                "77": "Código da Remessa Inválido",
                "78": "Data/Hora Geração do Arquivo Inválida",
                "79": "Número Sequencial do Arquivo Inválido",
                "80": "Versão do Lay Out do Arquivo Inválido",
                "81": "Literal REMESSA-TESTE - Válido só p/ Fase Testes",
                "82": "Literal REMESSA-TESTE - Obrigatório p/ Fase Testes",
                "83": "Tp Número Inscrição Empresa Inválido",
                "84": "Tipo de Operação Inválido",
                "85": "Tipo de Serviço Inválido",
                "86": "Forma de Lançamento Inválido",
                "87": "Número da Remessa Inválido",
                "88": "Número da Remessa Menor/Igual Remessa Anterior",
                "89": "Lote de Serviço Divergente",
                "90": "Número Sequencial do Registro Inválido",
                "91": "Erro Seq de Segmento do Registro Detalhe",
                "92": "Cod Movto Divergente entre Grupo de Segm",
                "93": "Qtde Registros no Lote Inválido",
                "94": "Qtde Registros no Lote Divergente",
                "95": "Qtde Lotes no Arquivo Inválido",
                "96": "Qtde Lotes no Arquivo Divergente",
                "97": "Qtde Registros no Arquivo Inválido",
                "98": "Qtde Registros no Arquivo Divergente",
                "99": "Código de DDD Inválido",
                "AJ": "Código do Pagador Inválido",
                "AM": "Nosso Número Fora de Sequência",
                "VB": "Registro Duplicado",
                "VL": "Beneficiário não Cadastrado",
                "YD": "Código de Ocorrência Inválido",
            },
        ),
    },
    # Itaú, "Cobrança Itaú - CNAB 240", nota 23 (via laravel-boleto Itau.php): a table per movement.
    "341": {
        "03": {
            "03": "CEP Inválido ou não Foi Possível Atribuir a Agência pelo CEP",
            "04": "Sigla do Estado Inválida",
            "05": "Data de Vencimento: Prazo da Operação Menor que Prazo Mínimo ou Maior que o Máximo",
            "08": "Nome do Pagador não Informado ou Deslocado",
            "09": "Agência/Conta: Agência Encerrada",
            "10": "Logradouro não Informado ou Deslocado",
            "11": "CEP não Numérico",
            "13": "CEP Incompatível com a Sigla do Estado",
            "14": "Nosso Número já Registrado no Cadastro do Banco ou Fora da Faixa",
            "15": "Nosso Número em Duplicidade no Mesmo Movimento",
            "18": "Data de Entrada Inválida para Operar com esta Carteira",
            "19": "Ocorrência Inválida",
            "22": "Carteira não Permitida (Necessário Cadastrar Faixa Livre)",
            "37": "CNPJ/CPF do Pagador não Numérico ou Igual a Zeros",
            "42": "Nosso Número Fora de Faixa",
            "62": "Valor do Desconto Maior que o Valor do Título",
            "66": "Data de Vencimento Inválida/Fora de Prazo de Operação (Mínimo ou Máximo)",
            "67": "Valor do Título/Quantidade de Moeda Inválido",
            "68": "Carteira Inválida ou não Cadastrada no Intercâmbio da Cobrança",
            "91": "DAC Agência/Conta Corrente Inválido",
            "92": "DAC Agência/Conta/Carteira/Nosso Número Inválido",
            "93": "Sigla Estado Inválida",
            "94": "Sigla Estado Incompatível com CEP do Pagador",
            "95": "CEP do Pagador não Numérico ou Inválido",
            "96": "Endereço/Nome/Cidade Pagador Inválido",
        },
        "15": {
            "04": "Nosso Número em Duplicidade num Mesmo Movimento",
            "05": "Solicitação de Baixa para Título já Baixado ou Liquidado",
            "06": "Solicitação de Baixa para Título não Registrado no Sistema",
            "07": "Cobrança Prazo Curto - Solicitação de Baixa p/ Título não Registrado no Sistema",
            "08": "Solicitação de Baixa para Título em Floating",
        },
    },
}

def _normalise(code: object) -> str:
    text = str(code).strip().upper()
    return text.zfill(2) if len(text) == 1 else text


def movement_text(code: str, bank_code: str | None = None) -> str:
    """The text of a retorno movement (C044), the bank's own where its manual differs.

    >>> movement_text("17")
    'Liquidação Após Baixa ou Liquidação Título Não Registrado'
    >>> movement_text("17", bank_code="341")
    'Alteração/Exclusão de Dados Rejeitada'
    >>> movement_text("  ")
    'código em branco não listado pelo FEBRABAN (C044)'
    """
    normalised = _normalise(code)
    if bank_code is not None:
        bank = _bank(bank_code)
        if normalised in _BANK_MOVEMENTS.get(bank, {}):
            return _BANK_MOVEMENTS[bank][normalised]
        if bank in _OWN_MOVEMENT_CODES:
            return f"código {normalised or 'em branco'} não listado no manual do banco {bank} (movimento retorno)"
    if normalised in RETORNO_MOVEMENTS:
        return RETORNO_MOVEMENTS[normalised]
    return f"código {normalised or 'em branco'} não listado pelo FEBRABAN (C044)"


def remessa_movement_text(code: str) -> str:
    """The text of a remessa movement (C004).

    >>> remessa_movement_text("02")
    'Pedido de Baixa'
    >>> remessa_movement_text("77")
    'código 77 não listado pelo FEBRABAN (C004)'
    """
    normalised = _normalise(code)
    return REMESSA_MOVEMENTS.get(normalised, f"código {normalised or 'em branco'} não listado pelo FEBRABAN (C004)")


def reason_text(movement_code: str, reason: str, bank_code: str | None = None) -> str:
    """The text of one C047 reason code, read in the table its movement selects (the bank's, where it has one).

    >>> reason_text("02", "A4")
    'Pagador DDA'
    >>> reason_text("09", "10")
    'Comandada Cliente Arquivo'
    >>> reason_text("06", "02", bank_code="104")
    'Casa Lotérica'
    >>> reason_text("03", "ZZ")
    'código ZZ não listado pelo FEBRABAN (C047, tabela A)'
    >>> reason_text("04", "01")
    'código 01: o FEBRABAN não define motivos para o movimento 04 (C047)'
    >>> reason_text("17", "13", bank_code="341")
    'código 13 não listado no manual do banco 341 para o movimento 17'
    """
    movement = _normalise(movement_code)
    normalised = _normalise(reason) or "em branco"
    bank = _bank(bank_code) if bank_code is not None else None
    if bank is not None:
        bank_texts = _BANK_REASONS.get(bank, {}).get(movement, {})
        if normalised in bank_texts:
            return bank_texts[normalised]
        if bank in _OWN_MOVEMENT_CODES:
            return f"código {normalised} não listado no manual do banco {bank} para o movimento {movement}"
    table = _TABLE_OF_MOVEMENT.get(movement)
    if table is None:
        return f"código {normalised}: o FEBRABAN não define motivos para o movimento {movement} (C047)"
    letter, texts = table
    if normalised in texts:
        return texts[normalised]
    return f"código {normalised} não listado pelo FEBRABAN (C047, tabela {letter})"


def febraban_movement(code: str, bank_code: str | None = None) -> str | None:
    """The FEBRABAN C044 movement with the same effect as a bank's movement code (None: none we track).

    Itaú numbers its retorno movements its own way; Caixa adds a few of its own; the others send C044 codes.

    >>> febraban_movement("17"), febraban_movement("17", "341"), febraban_movement("32", "341")
    ('17', '30', '25')
    >>> febraban_movement("46", "104"), febraban_movement("46")
    ('06', '46')
    """
    normalised = _normalise(code)
    if bank_code is not None and _bank(bank_code) == "341":
        return _ITAU_AS_FEBRABAN.get(normalised)
    if bank_code is not None and _bank(bank_code) == "104":
        return _CAIXA_AS_FEBRABAN.get(normalised, normalised)
    return normalised


# Caixa SIGCB's own movements with a FEBRABAN effect (laravel-boleto src/Cnab/Retorno/Cnab240/Banco/Caixa.php):
# 46 "Liquidação On-line" is a settlement as 06 is. Its reversals (44, 47) are left as other events.
_CAIXA_AS_FEBRABAN: Final[dict[str, str | None]] = {"46": "06"}


def split_reasons(field: str | None) -> list[str]:
    """The reason codes of the T segment's 10-character motivos field (T 214-223), blanks and "00" dropped.

    >>> split_reasons("0201000000")
    ['02', '01']
    >>> split_reasons("")
    []
    """
    if not field:
        return []
    codes = (field[start : start + 2].strip().upper() for start in range(0, len(field), 2))
    return [code for code in codes if code and code != "00"]


def _bank(bank_code: str) -> str:
    return str(bank_code).strip().zfill(3)
