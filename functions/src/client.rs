//! The client's address, for rate limits: the TCP peer under `t8k serve`, API Gateway's
//! `requestContext.http.sourceIp` on Lambda. Never a header the client can set
//! (`X-Forwarded-For` would let anyone pick a fresh address per attempt).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::error::ApiError;

/// The client address as text; "unknown" when neither source is present (then all such
/// clients share one rate-limit bucket, which fails closed rather than open).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return Ok(ClientIp(addr.ip().to_string()));
        }
        let lambda = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
            _ => None,
        };
        Ok(ClientIp(lambda.unwrap_or_else(|| "unknown".into())))
    }
}
