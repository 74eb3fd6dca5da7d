#pragma once

// Handlers of every command family; the command table (command_table.cpp) is the one
// place that names them. Each handler's comment states its arguments and reply.

#include "commands/command.hpp"

namespace otkv::cmd {

// -- string family (string_family.cpp), run on the owning partition -----------------
net::reply op_get(op_context&, const net::arg_list&);
net::reply op_set(op_context&, const net::arg_list&);
net::reply op_mget(op_context&, const net::arg_list&);
net::reply op_mset(op_context&, const net::arg_list&);
net::reply op_msetnx(op_context&, const net::arg_list&);
net::reply op_incr(op_context&, const net::arg_list&);
net::reply op_decr(op_context&, const net::arg_list&);
net::reply op_incrby(op_context&, const net::arg_list&);
net::reply op_decrby(op_context&, const net::arg_list&);
net::reply op_incrbyfloat(op_context&, const net::arg_list&);
net::reply op_append(op_context&, const net::arg_list&);
net::reply op_strlen(op_context&, const net::arg_list&);
net::reply op_getdel(op_context&, const net::arg_list&);
net::reply op_getset(op_context&, const net::arg_list&);
net::reply op_getex(op_context&, const net::arg_list&);
net::reply op_setnx(op_context&, const net::arg_list&);
net::reply op_setex(op_context&, const net::arg_list&);
net::reply op_psetex(op_context&, const net::arg_list&);
net::reply op_getrange(op_context&, const net::arg_list&);
net::reply op_setrange(op_context&, const net::arg_list&);

// -- keyspace family (keyspace_family.cpp) ------------------------------------------
net::reply op_del(op_context&, const net::arg_list&);
net::reply op_exists(op_context&, const net::arg_list&);
net::reply op_keys(op_context&, const net::arg_list&);
net::reply op_expire(op_context&, const net::arg_list&);
net::reply op_pexpire(op_context&, const net::arg_list&);
net::reply op_expireat(op_context&, const net::arg_list&);
net::reply op_pexpireat(op_context&, const net::arg_list&);
net::reply op_expiretime(op_context&, const net::arg_list&);
net::reply op_pexpiretime(op_context&, const net::arg_list&);
net::reply op_ttl(op_context&, const net::arg_list&);
net::reply op_pttl(op_context&, const net::arg_list&);
net::reply op_persist(op_context&, const net::arg_list&);
net::reply op_type(op_context&, const net::arg_list&);
net::reply op_dbsize(op_context&, const net::arg_list&);
net::reply op_flushall(op_context&, const net::arg_list&);
net::reply op_partition_stats(op_context&, const net::arg_list&);
net::reply op_scan(op_context&, const net::arg_list&);
net::reply op_rename(op_context&, const net::arg_list&);
net::reply op_renamenx(op_context&, const net::arg_list&);
net::reply op_copy(op_context&, const net::arg_list&);
net::reply op_randomkey(op_context&, const net::arg_list&);
net::reply merge_scan(client_context&, fanout&);
net::reply merge_randomkey(client_context&, fanout&);

// -- server family (server_family.cpp), run on the connection ------------------------
net::reply conn_ping(client_context&, net::arg_list&);
net::reply conn_echo(client_context&, net::arg_list&);
net::reply conn_quit(client_context&, net::arg_list&);
net::reply conn_select(client_context&, net::arg_list&);
net::reply conn_time(client_context&, net::arg_list&);
net::reply conn_command(client_context&, net::arg_list&);
net::reply conn_client(client_context&, net::arg_list&);
net::reply conn_hello(client_context&, net::arg_list&);
net::reply conn_auth(client_context&, net::arg_list&);
net::reply conn_config(client_context&, net::arg_list&);
net::reply conn_shutdown(client_context&, net::arg_list&);
net::reply conn_debug(client_context&, net::arg_list&);
net::reply conn_save(client_context&, net::arg_list&);
net::reply conn_bgsave(client_context&, net::arg_list&);
net::reply conn_lastsave(client_context&, net::arg_list&);
net::reply conn_slowlog(client_context&, net::arg_list&);
net::reply merge_info(client_context&, fanout&);

} // namespace otkv::cmd
