"""Paging: reach a service's maintainers wherever they are, track acknowledgement, escalate."""

from infrabot.paging.pager import Pager
from infrabot.paging.plan import Level, Recipient, plan_for

__all__ = ["Level", "Pager", "Recipient", "plan_for"]
