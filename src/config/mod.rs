//! zkpod's configuration, shared by the commands: start-zookeeper's flags and `ZK_*`
//! variables (`flags`), validated into `Settings` (`settings`), the super user's password (`secret`),
//! this pod's place in the ensemble (`identity`), the JVM heap from the container's memory
//! limit (`heap`), and the files rendered from them (`render`) and written whole (`write`).
//! Data flows in that order; nothing here asks a server.

pub mod flags;
pub mod heap;
pub mod identity;
pub mod render;
pub mod running;
pub mod secret;
pub mod settings;
pub mod write;
