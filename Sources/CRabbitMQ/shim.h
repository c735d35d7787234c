// rabbitmq-c 0.11 as Debian 12 installs it: <amqp.h>, not <rabbitmq-c/amqp.h>.
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

// amqp_login is variadic, which Swift cannot call; this is its SASL PLAIN form.
static inline amqp_rpc_reply_t stam_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                     int channel_max, int frame_max, int heartbeat,
                                                     const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}
