//! `psa.v1.TicketService`.

use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use crate::web::grpc_convert::{id, opt_id, target};
use psa_protos::v1 as pb;
use psa_protos::v1::ticket_service_server::TicketService;
use psa_store::pagination::PageRequest;
use psa_store::tickets::comments::{self, NewComment};
use psa_store::tickets::{self as svc, NewTicket, TicketFilter, TicketPatch};
use tonic::{Request, Response, Status};

pub struct TicketApi {
    state: AppState,
}

impl TicketApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn principal<T>(&self, req: &Request<T>) -> Result<Principal, ApiError> {
        crate::web::grpc::principal(&self.state, req).await
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl TicketService for TicketApi {
    async fn create_ticket(&self, req: Request<pb::CreateTicketRequest>) -> Reply<pb::Ticket> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = NewTicket {
            title: r.title,
            description: r.description,
            client_id: opt_id("client_id", r.client_id.as_deref())?,
            contact_id: opt_id("contact_id", r.contact_id.as_deref())?,
            board_id: opt_id("board_id", r.board_id.as_deref())?,
            priority_id: opt_id("priority_id", r.priority_id.as_deref())?,
            status_id: opt_id("status_id", r.status_id.as_deref())?,
            assignee_id: opt_id("assignee_id", r.assignee_id.as_deref())?,
        };
        let t = svc::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(crate::web::grpc_convert::ticket(t)))
    }

    async fn get_ticket(&self, req: Request<pb::GetTicketRequest>) -> Reply<pb::Ticket> {
        let p = self.principal(&req).await?;
        let t = svc::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(crate::web::grpc_convert::ticket(t)))
    }

    async fn list_tickets(
        &self,
        req: Request<pb::ListTicketsRequest>,
    ) -> Reply<pb::ListTicketsResponse> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let filter = TicketFilter {
            status_id: opt_id("status_id", r.status_id.as_deref())?,
            board_id: opt_id("board_id", r.board_id.as_deref())?,
            client_id: opt_id("client_id", r.client_id.as_deref())?,
            assignee_id: opt_id("assignee_id", r.assignee_id.as_deref())?,
            priority_id: opt_id("priority_id", r.priority_id.as_deref())?,
            open: r.open,
            // Protobuf sends an unset limit as 0: the default page.
            limit: (r.limit != 0).then_some(r.limit),
            cursor: Some(r.cursor),
        };
        let page = svc::list(&self.state.pool, &p, filter)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListTicketsResponse {
            tickets: page
                .items
                .into_iter()
                .map(crate::web::grpc_convert::ticket)
                .collect(),
            next_cursor: page.next_cursor.unwrap_or_default(),
        }))
    }

    async fn update_ticket(&self, req: Request<pb::UpdateTicketRequest>) -> Reply<pb::Ticket> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let patch = TicketPatch {
            title: r.title,
            description: r.description,
            client_id: opt_id("client_id", r.client_id.as_deref())?,
            contact_id: opt_id("contact_id", r.contact_id.as_deref())?,
            board_id: opt_id("board_id", r.board_id.as_deref())?,
            priority_id: opt_id("priority_id", r.priority_id.as_deref())?,
            awaiting_client: r.awaiting_client,
        };
        let t = svc::update(&self.state.pool, &p, target(&r.id)?, patch)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(crate::web::grpc_convert::ticket(t)))
    }

    async fn change_status(&self, req: Request<pb::ChangeStatusRequest>) -> Reply<pb::Ticket> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let t = svc::change_status(
            &self.state.pool,
            &p,
            target(&r.id)?,
            id("status_id", &r.status_id)?,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(Response::new(crate::web::grpc_convert::ticket(t)))
    }

    async fn assign_ticket(&self, req: Request<pb::AssignTicketRequest>) -> Reply<pb::Ticket> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let assignee = opt_id("assignee_id", Some(&r.assignee_id))?;
        let t = svc::assign(&self.state.pool, &p, target(&r.id)?, assignee)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(crate::web::grpc_convert::ticket(t)))
    }

    async fn close_ticket(&self, req: Request<pb::CloseTicketRequest>) -> Reply<pb::Ticket> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let status = opt_id("status_id", r.status_id.as_deref())?;
        let t = svc::close(&self.state.pool, &p, target(&r.id)?, status)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(crate::web::grpc_convert::ticket(t)))
    }

    async fn add_comment(&self, req: Request<pb::AddCommentRequest>) -> Reply<pb::Comment> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = NewComment {
            body: r.body,
            is_internal: r.is_internal,
        };
        let c = comments::add(
            &self.state.pool,
            &p,
            r.idempotency_key.as_deref(),
            target(&r.ticket_id)?,
            input,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(Response::new(crate::web::grpc_convert::comment(c)))
    }

    async fn list_comments(
        &self,
        req: Request<pb::ListCommentsRequest>,
    ) -> Reply<pb::ListCommentsResponse> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let page = PageRequest::parse((r.limit != 0).then_some(r.limit), Some(&r.cursor))
            .map_err(ApiError::from)?;
        let out = comments::list(&self.state.pool, &p, target(&r.ticket_id)?, page)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: out
                .items
                .into_iter()
                .map(crate::web::grpc_convert::comment)
                .collect(),
            next_cursor: out.next_cursor.unwrap_or_default(),
        }))
    }
}
