"""Contains all the data models used in inputs/outputs"""

from .balance_response import BalanceResponse
from .cost_breakdown_item import CostBreakdownItem
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .message import Message
from .problem_details import ProblemDetails
from .send_messages_request import SendMessagesRequest
from .send_messages_response import SendMessagesResponse
from .send_options import SendOptions
from .send_response import SendResponse
from .token_response import TokenResponse
from .validation_problem_details import ValidationProblemDetails
from .validation_problem_details_errors import ValidationProblemDetailsErrors

__all__ = (
    "BalanceResponse",
    "CostBreakdownItem",
    "ErrorDetail",
    "ErrorResponse",
    "Message",
    "ProblemDetails",
    "SendMessagesRequest",
    "SendMessagesResponse",
    "SendOptions",
    "SendResponse",
    "TokenResponse",
    "ValidationProblemDetails",
    "ValidationProblemDetailsErrors",
)
