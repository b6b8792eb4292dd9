"""The sandbox payment channel: approves every top-up and payout without touching real money.

Honestly named: it stands where a bank, Alipay or WeChat Pay adapter would, for demos and tests.
"""

from __future__ import annotations

import secrets

from hongbao.domain.errors import Rejected


class SandboxChannel:
    name = "sandbox"

    def __init__(self, decline_over_fen: int | None = None) -> None:
        self.decline_over_fen = decline_over_fen
        self.charged_fen = 0
        self.paid_out_fen = 0

    def charge(self, user_id: int, amount_fen: int) -> str:
        if self.decline_over_fen is not None and amount_fen > self.decline_over_fen:
            raise Rejected("The sandbox channel declined this charge.", code="channel_declined")
        self.charged_fen += amount_fen
        return f"sbx-in-{secrets.token_hex(12)}"

    def payout(self, user_id: int, amount_fen: int) -> str:
        self.paid_out_fen += amount_fen
        return f"sbx-out-{secrets.token_hex(12)}"
