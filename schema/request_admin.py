"""Customer service's side of requests: the queue's filter, taking a request, moving its stage
and deciding it (resolvers/request_processing.py)."""

from __future__ import annotations

import strawberry

from auth.staff import StaffPermission
from models.request import RequestDecision, RequestStage, RequestType
from resolvers import request_processing
from schema.base import Info, staff_permission
from schema.identity import UserError, user_errors
from schema.refs import RequestRef


@strawberry.input(description="Narrows the staff queue of requests; every condition must hold.")
class AdminRequestFilterInput:
    stages: list[RequestStage] | None = None
    kinds: list[RequestType] | None = None
    client_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    unassigned: bool | None = strawberry.field(
        default=None, description="True: nobody has taken them; false: someone has."
    )
    overdue: bool | None = strawberry.field(
        default=None,
        description="True: still undecided after their deadline (working days in Warsaw, "
        "fixed at filing); false: the others.",
    )

    def wanted(self) -> request_processing.QueueFilter:
        return request_processing.QueueFilter(
            stages=frozenset(self.stages or ()),
            kinds=frozenset(self.kinds or ()),
            client_global_id=self.client_id,
            assignee_global_id=self.assignee_id,
            unassigned=self.unassigned,
            overdue=self.overdue,
        )


@strawberry.input
class RequestAssignInput:
    request_id: strawberry.ID
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="A staff member who may act; left out, the caller."
    )


@strawberry.type
class RequestAssignPayload:
    request: RequestRef | None
    errors: list[UserError]


@strawberry.input
class RequestStageChangeInput:
    request_id: strawberry.ID
    stage: RequestStage = strawberry.field(
        description="SUBMITTED → IN_REVIEW ⇄ WAITING_FOR_CLIENT; COMPLETED or REJECTED → "
        "CLOSED. Deciding is requestDecide's."
    )
    comment: str = strawberry.field(
        default="",
        description="Required for WAITING_FOR_CLIENT: what the client is asked to answer "
        "(at most 4000 characters).",
    )


@strawberry.type
class RequestStageChangePayload:
    request: RequestRef | None
    errors: list[UserError]


@strawberry.input
class RequestDecideInput:
    request_id: strawberry.ID
    decision: RequestDecision
    answer: str = strawberry.field(description="The final answer (at most 8000 characters).")


@strawberry.type
class RequestDecidePayload:
    request: RequestRef | None
    errors: list[UserError]


@strawberry.type
class RequestAdminMutation:
    @strawberry.mutation(
        description="Staff: take a request (or give it to another staff member); a submitted "
        "request goes into review.",
        extensions=staff_permission(StaffPermission.REQUESTS_MANAGE),
    )
    async def request_assign(self, info: Info, input: RequestAssignInput) -> RequestAssignPayload:
        request, errors = await request_processing.assign(
            info.context, request_global_id=input.request_id, assignee_global_id=input.assignee_id
        )
        return RequestAssignPayload(request=request, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Staff: move a request to its next stage; asking the client "
        "(WAITING_FOR_CLIENT) e-mails them.",
        extensions=staff_permission(StaffPermission.REQUESTS_MANAGE),
    )
    async def request_stage_change(
        self, info: Info, input: RequestStageChangeInput
    ) -> RequestStageChangePayload:
        request, errors = await request_processing.change_stage(
            info.context,
            request_global_id=input.request_id,
            stage=input.stage,
            comment=input.comment,
        )
        return RequestStageChangePayload(request=request, errors=user_errors(errors))  # type: ignore[arg-type]

    @strawberry.mutation(
        description="Staff: accept or reject an open request with the final answer, once. An "
        "accepted payment-day change, schedule change or change of company data takes effect "
        "in the same step; the client is e-mailed.",
        extensions=staff_permission(StaffPermission.REQUESTS_MANAGE),
    )
    async def request_decide(self, info: Info, input: RequestDecideInput) -> RequestDecidePayload:
        request, errors = await request_processing.decide(
            info.context,
            request_global_id=input.request_id,
            decision=input.decision,
            answer=input.answer,
        )
        return RequestDecidePayload(request=request, errors=user_errors(errors))  # type: ignore[arg-type]
