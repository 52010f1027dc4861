#!/usr/bin/ruby
# Places keys with Dalli's own ring, for live parity tests. No server is
# contacted: the ring is built from Dalli's server objects and asked for the
# server of each key's hash, as Dalli::Ring#server_for_key does before its
# liveness check.
#
# usage: dalli-place.rb INPUT
# INPUT has "servers SPEC,SPEC,..." lines (Dalli's "host:port:weight",
# "[v6]:port:weight", "/path:weight") followed by "key HEX" lines (any
# bytes). Prints one server index per key.
require 'dalli'

out = []
ring = nil
servers = nil
File.foreach(ARGV[0]) do |line|
  kind, rest = line.chomp.split(' ', 2)
  case kind
  when 'servers'
    servers = rest.split(',').map { |s| Dalli::Protocol::Binary.new(s, {}) }
    ring = Dalli::Ring.new(servers, {})
  when 'key'
    key = [rest].pack('H*')
    server = if ring.continuum
               ring.send(:server_for_hash_key, ring.send(:hash_for, key))
             else
               servers.first
             end
    out << servers.index(server)
  end
end
$stdout.write(out.join("\n") + "\n")
