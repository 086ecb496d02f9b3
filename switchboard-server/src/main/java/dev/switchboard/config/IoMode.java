package dev.switchboard.config;

/** The event-loop engine. {@code AUTO} picks io_uring, then epoll, then NIO, whichever loads first here. */
public enum IoMode { AUTO, IO_URING, EPOLL, NIO }
