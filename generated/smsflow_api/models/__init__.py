"""Contains all the data models used in inputs/outputs"""

from .balance_response import BalanceResponse
from .cost_breakdown_item import CostBreakdownItem
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .message import Message
from .send_messages_request import SendMessagesRequest
from .send_messages_response import SendMessagesResponse
from .send_options import SendOptions
from .send_response import SendResponse
from .token_response import TokenResponse

__all__ = (
    "BalanceResponse",
    "CostBreakdownItem",
    "ErrorDetail",
    "ErrorResponse",
    "Message",
    "SendMessagesRequest",
    "SendMessagesResponse",
    "SendOptions",
    "SendResponse",
    "TokenResponse",
)
