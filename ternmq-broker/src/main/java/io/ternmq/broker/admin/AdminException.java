package io.ternmq.broker.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request the admin API refuses (bad input 400, unknown client 404, ...): {@link AdminRouter} answers it as
 * {@code {"code","message"}}. No stack trace is kept or shown.
 */
final class AdminException extends RuntimeException {
    private final HttpResponseStatus status;

    AdminException(HttpResponseStatus status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    static AdminException badRequest(String message) {
        return new AdminException(HttpResponseStatus.BAD_REQUEST, message);
    }

    static AdminException notFound(String message) {
        return new AdminException(HttpResponseStatus.NOT_FOUND, message);
    }

    HttpResponseStatus status() {
        return status;
    }
}
