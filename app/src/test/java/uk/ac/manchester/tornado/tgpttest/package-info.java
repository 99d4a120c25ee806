/**
 * Stand-ins for TornadoVM's exceptions, named as TornadoVM names them, for the launcher's tests: in JVM mode
 * tornado-jvm has few of them, and the launcher tells them apart by package, name and message, not by type. A package
 * of their own, so that they never shadow a real SDK's classes.
 */
package uk.ac.manchester.tornado.tgpttest;
